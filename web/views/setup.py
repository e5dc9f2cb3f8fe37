"""First-time set-up: the MFA enrolment after the password (the password step is the
invitation link's page, accounts.views.SetPasswordView), and the notification preferences."""

from __future__ import annotations

import io
from base64 import b32encode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.safestring import mark_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from core.errors import ApplicationError
from notifications.selectors import notification_preferences_for
from notifications.services.inbox import notification_preferences_update

from ..auth import web_sign_out
from ..forms import UswdsForm
from ..middleware import mfa_enrolment_pending
from .common import page, render_page, signed_in_user


class ConfirmCodeForm(UswdsForm):
    otp = forms.CharField(
        label="Code from your authenticator app",
        max_length=16,
        help_text="The 6-digit code the app shows after you scan the QR code.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def qr_svg(data: str) -> str:
    """The otpauth URL as an inline SVG drawn on the server (no script, no external service,
    no inline style: the path's fill is an attribute)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    out = io.BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    svg = svg[svg.index("<svg") :]  # drop the XML declaration
    return svg.replace("<svg", '<svg role="img" aria-label="QR code to scan with your authenticator app"', 1)


@page()
def setup(request: HttpRequest) -> HttpResponse:
    """Where a new person lands after choosing a password: MFA enrolment when the role needs it,
    else home."""
    return HttpResponseRedirect("/app/setup/mfa/" if mfa_enrolment_pending(request.user) else "/app/")


@page(methods=("GET", "POST"))
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if mfa.mfa_is_enrolled(user):
        return HttpResponseRedirect("/app/")
    form = ConfirmCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = mfa.mfa_totp_confirm(actor=user, otp=form.cleaned_data["otp"])
        except ApplicationError as exc:
            form.add_error("otp", "That code is not right. Enter the code the app shows now.")
            if exc.code != "invalid":
                form.add_error(None, exc.message)
        else:
            # Confirming ended every session of the person, this one too (accounts.mfa): the
            # codes are shown once, here, and the person signs in again with a code.
            web_sign_out(request=request)
            return render_page(request, "web/setup/recovery_codes.html", {"codes": codes, "username": user.username})
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    else:
        device = mfa.mfa_totp_begin(actor=user)
    context = {
        "form": form,
        # Our own SVG, drawn from a URL we built: no text of anyone's in it.
        "qr": mark_safe(qr_svg(device.config_url)) if device else "",  # noqa: S308
        "secret": b32encode(device.bin_key).decode() if device else "",
    }
    return render_page(request, "web/setup/mfa.html", context, status=400 if form.errors else 200)


@page(methods=("GET", "POST"), audit_object_type="notification_preference")
def preferences(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    rows = notification_preferences_for(user=user)
    if request.method == "POST":
        chosen = set(request.POST.getlist("email"))
        changes = {row["rule"]: row["rule"] in chosen for row in rows}
        notification_preferences_update(user=user, changes=changes, actor=user)
        messages.success(request, "Your notification settings are saved.")
        return HttpResponseRedirect("/app/preferences/")
    return render_page(request, "web/preferences.html", {"rows": rows}, nav="prefs")
