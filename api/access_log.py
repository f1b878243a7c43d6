"""Access logs without applicant ids.

- `log_request`: the app's own structured access line (logger `api.access`, one per request, written by
  `api.observability`): request id, method, route template, status, latency, model version -- never the raw
  path, the query string or a personal field. Under `make serve-prod` it is a JSON line (api/logs.py).
- `RedactApplicantIds`: uvicorn's own access log (`make api`) logs `/v1/applicants/100002/score` as
  `/v1/applicants/<id>/score` (the query string is dropped too)."""

from __future__ import annotations

import logging
import re

access_log = logging.getLogger("api.access")

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


def log_request(request_id: str, method: str, route: str, status: int, seconds: float,
                model_version: str | None) -> None:
    """One access line; `route` is a route template (see api.observability.route_template)."""
    fields = {"event": "access", "request_id": request_id, "method": method, "route": route, "status": status,
              "latency_ms": round(seconds * 1000, 2), "model_version": model_version}
    access_log.info("%s %s %d %.1fms", method, route, status, seconds * 1000, extra={"fields": fields})
