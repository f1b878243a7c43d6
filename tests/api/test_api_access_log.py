import logging

from api.access_log import RedactApplicantIds


def _record(path: str) -> logging.LogRecord:
    return logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                             ("127.0.0.1:5000", "GET", path, "1.1", 200), None)


def test_applicant_ids_are_redacted_from_access_log_lines():
    record = _record("/v1/applicants/100002/comparison?features=amt_credit")
    assert RedactApplicantIds().filter(record)
    message = record.getMessage()
    assert "100002" not in message and "amt_credit" not in message
    assert "/v1/applicants/<id>/comparison" in message


def test_other_paths_are_kept():
    record = _record("/v1/model")
    RedactApplicantIds().filter(record)
    assert "/v1/model" in record.getMessage()
