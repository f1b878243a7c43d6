"""Keep applicant ids out of the server's access log: `/v1/applicants/100002/score` is logged as
`/v1/applicants/<id>/score` (the query string is dropped too)."""

from __future__ import annotations

import logging
import re

_ID_IN_PATH = re.compile(r"(/applicants/)[^/?\s]+")


class RedactApplicantIds(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = _ID_IN_PATH.sub(r"\1<id>", args[2].split("?", 1)[0])
            record.args = (*args[:2], path, *args[3:])
        return True


def install_access_log_redaction() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactApplicantIds) for f in logger.filters):
        logger.addFilter(RedactApplicantIds())
