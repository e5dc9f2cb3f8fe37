"""gunicorn settings for Safe Harbor's web process: `gunicorn -c python:config.gunicorn config.wsgi`.

The access log never carries a secret or what a person typed: the logger class masks the
calendar-feed and set-password tokens in every value the access format can use (request line,
path, query, referer and every other header, environ), and the format itself leaves out the
query string and the referer. The error log ("Error handling request /path…") passes through
the same filter as Django's loggers (core/logging_filters.py).
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from core.logging_filters import MASK, SecretPathFilter, mask_value


class SecretMaskingLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, SecretPathFilter) for f in log.filters):
                log.addFilter(SecretPathFilter())

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = {key: mask_value(value) for key, value in super().atoms(resp, req, environ, request_time).items()}
        # The bare query string has no path around it for the filter to recognise.
        for key in ("q", "{query_string}e"):
            if atoms.get(key):
                atoms[key] = MASK
        return atoms


logger_class = SecretMaskingLogger
accesslog = "-"
#: Address, time, method, path (no query string: the duplicate search sends names and a date of
#: birth in it), status, size, duration in ms, and the request id that ties the line to the
#: audit log. No referer, no user agent.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
