"""What the pages share: how a page is declared and rendered, and the case-role check."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.http import AuthedRequest
from accounts.models import User
from core.permissions import is_case_role


def page(*, methods: tuple[str, ...] = ("GET",), audit_object_type: str = "") -> Callable:
    """Declare a page: the methods it answers (others 405) and the object type its refusals
    are audited as (web.middleware)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        allowed = require_http_methods(list(methods))(view)

        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            return allowed(request, *args, **kwargs)

        wrapper.audit_object_type = audit_object_type  # type: ignore[attr-defined]
        return wrapper

    return decorate


def signed_in_user(request: HttpRequest) -> User:
    """The person signed in. Every page but sign-in's is behind WebPagesMiddleware's gate,
    which sends a request without a session to the sign-in page before the view runs: in those
    views `request.user` is always a User, never AnonymousUser."""
    user = request.user
    assert isinstance(user, User), "a page behind sign-in was reached without a session"
    return user


def api_request(request: HttpRequest) -> AuthedRequest:
    """A signed-in page's request, as the API's read helpers take it: the pages audit their
    reads and search duplicates through the API's own helpers (cases.apis.base._audit_read and
    _audit_rows, cases.apis.duplicates, cases.apis.referrals._referral_duplicates,
    mdt.apis.reads.audit_reads), so that a page reads as the API does. Those helpers are typed
    for DRF's Request but read only `request.user`, which a signed-in page's request has too.
    The one ignore of the views, until those helpers also take Django's HttpRequest."""
    signed_in_user(request)
    return request  # type: ignore[return-value]


def require_case_role(request: HttpRequest) -> None:
    """The case pages are for case workers and supervisors. Every other role gets the same 404
    as for an object it may not see (SPEC §1: a path naming a case object answers 404)."""
    user = signed_in_user(request)
    if not (is_case_role(user) and user.agency_id):
        raise Http404


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, nav: str = "", status: int = 200
) -> HttpResponse:
    return render(request, template, {"nav": nav, **context}, status=status)


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))
