"""Error reports to Sentry — optional, only when SENTRY_DSN is set (SPEC §7).

Nothing identifying leaves the server: before an event is sent, `scrub_event` drops the request
body, headers, cookies, query string and environment, every frame's local variables, exception
messages (a database error quotes the row it failed on), log-message arguments, breadcrumbs'
messages and data, and every user field but the id. What is left: the exception's type, the
stack (file, function, line, source), the route's path with its secrets masked, the release and
the environment. Imported by the settings: it must not import models.
"""

from __future__ import annotations

from typing import Any

from core.logging_filters import mask_secrets

_REQUEST_KEEP = ("method", "url")
_BREADCRUMB_KEEP = ("type", "category", "level", "timestamp")


def scrub_event(event: dict[str, Any], hint: Any = None) -> dict[str, Any]:
    request = event.get("request")
    if isinstance(request, dict):
        kept = {k: request[k] for k in _REQUEST_KEEP if k in request}
        if "url" in kept:
            kept["url"] = mask_secrets(str(kept["url"]).split("?", 1)[0])
        event["request"] = kept
    for exception in (event.get("exception") or {}).get("values") or []:
        exception.pop("value", None)
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    for thread in (event.get("threads") or {}).get("values") or []:
        for frame in (thread.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        event["logentry"] = {"message": mask_secrets(str(logentry.get("message", "")))}
    if "message" in event and isinstance(event["message"], str):
        event["message"] = mask_secrets(event["message"])
    crumbs = event.get("breadcrumbs")
    values = crumbs.get("values") if isinstance(crumbs, dict) else crumbs
    if isinstance(values, list):
        cleaned = [{k: c[k] for k in _BREADCRUMB_KEEP if k in c} for c in values if isinstance(c, dict)]
        event["breadcrumbs"] = {"values": cleaned}
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    event.pop("extra", None)
    event.pop("server_name", None)
    return event


def scrub_breadcrumb(crumb: dict[str, Any], hint: Any = None) -> dict[str, Any]:
    return {k: crumb[k] for k in _BREADCRUMB_KEEP if k in crumb}


def sentry_init(dsn: str, *, environment: str, release: str | None = None, **options: Any) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        send_default_pii=False,
        include_local_variables=False,
        include_source_context=True,
        max_request_body_size="never",
        traces_sample_rate=0.0,
        integrations=[DjangoIntegration(transaction_style="url"), CeleryIntegration()],
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        **options,
    )
