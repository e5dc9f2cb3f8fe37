"""Sign-in, sign-out and the root address."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from core.errors import ApplicationError

from ..auth import web_sign_in, web_sign_out
from ..forms import SignInForm
from .common import page, render_page

HOME = "/app/"


def _safe_next(request: HttpRequest, value: str | None) -> str:
    """Only a page of the web app on this host: never an open redirect."""
    if (
        value
        and value.startswith("/app/")
        and url_has_allowed_host_and_scheme(
            value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return value
    return HOME


def root(request: HttpRequest) -> HttpResponse:
    """`/`: the sign-in page, or home when signed in."""
    return HttpResponseRedirect(HOME if request.user.is_authenticated else "/app/sign-in/")


@page(methods=("GET", "POST"))
@sensitive_post_parameters("password", "otp")
@csrf_protect
@never_cache
def sign_in(request: HttpRequest) -> HttpResponse:
    target = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "GET" and request.user.is_authenticated:
        return HttpResponseRedirect(target)
    form = SignInForm(request.POST or None, initial={"username": request.GET.get("username", "")})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            web_sign_in(
                request=request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                otp=form.cleaned_data.get("otp") or None,
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            status = 429 if exc.code == "throttled" else 400
        else:
            return HttpResponseRedirect(target)
    elif request.method == "POST":
        status = 400
    return render_page(request, "web/sign_in.html", {"form": form, "next": target}, status=status)


@page(methods=("POST",))
def sign_out(request: HttpRequest) -> HttpResponse:
    web_sign_out(request=request)
    return HttpResponseRedirect("/app/signed-out/")


@page()
def signed_out(request: HttpRequest) -> HttpResponse:
    return render_page(request, "web/signed_out.html", {})
