"""The web app's forms: input parsing only, in the USWDS look. Every rule lives in the services
the forms' views call; their ApplicationError field messages come back onto the fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from core.errors import ApplicationError
from core.times import EARLIEST_DATE, EARLIEST_TIME, LATEST_DATE, LATEST_TIME

_CLASSES = {
    "checkbox": "usa-checkbox__input",
    "checkboxselectmultiple": "usa-checkbox__input",
    "radioselect": "usa-radio__input",
    "select": "usa-select",
    "textarea": "usa-textarea",
}


class UswdsForm(forms.Form):
    """Widgets get USWDS classes, required fields `required`/aria-required, and after
    validation the error class and aria-describedby pointing at the field's message."""

    required_css_class = "required"

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for name, f in self.fields.items():
            kind = f.widget.__class__.__name__.lower()
            css = _CLASSES.get(kind, "usa-input")
            f.widget.attrs.setdefault("class", css)
            if f.help_text:
                f.widget.attrs["aria-describedby"] = f"id_{self.prefix + '-' if self.prefix else ''}{name}-hint"

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name not in self.fields:
                continue
            widget = self.fields[name].widget
            bound_id = self[name].auto_id
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} usa-input--error".strip()
            widget.attrs["aria-invalid"] = "true"
            described = [d for d in widget.attrs.get("aria-describedby", "").split() if d]
            widget.attrs["aria-describedby"] = " ".join([*described, f"{bound_id}-error"])

    def add_service_error(self, exc: ApplicationError, *, field_map: dict[str, str] | None = None) -> None:
        """A service's refusal, its field messages on the matching fields, the rest on top."""
        placed = False
        for key, messages in (exc.fields or {}).items():
            name = (field_map or {}).get(key, key.split(".")[-1] if key.split(".")[-1] in self.fields else key)
            for message in messages if isinstance(messages, list) else [messages]:
                if name in self.fields:
                    self.add_error(name, str(message))
                    placed = True
        self.add_error(None, exc.message if placed or not exc.fields else exc.message)
        self.full_clean_marks()

    def full_clean_marks(self) -> None:
        # add_error after validation: re-mark the widgets (class, aria) without cleaning again.
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "usa-input--error" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} usa-input--error".strip()
                    widget.attrs["aria-invalid"] = "true"
                    described = [d for d in widget.attrs.get("aria-describedby", "").split() if d]
                    widget.attrs["aria-describedby"] = " ".join([*described, f"{self[name].auto_id}-error"])


class PacificDateTimeField(forms.DateTimeField):
    """A time entered in Pacific time (the browser's datetime-local input), stored in UTC, and
    bounded like every time a client sends (SPEC §6)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]

    def to_python(self, value: Any) -> dt.datetime | None:
        result = super().to_python(value)  # made aware in the current zone: Los Angeles
        if result is not None and not (EARLIEST_TIME <= result < LATEST_TIME):
            raise forms.ValidationError("Enter a time between 1900 and 2100.")
        return result


class BoundedDateField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def to_python(self, value: Any) -> dt.date | None:
        result = super().to_python(value)
        if result is not None and not (EARLIEST_DATE <= result < LATEST_DATE):
            raise forms.ValidationError("Enter a date between 1900 and 2100.")
        return result


def now_local_input() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


class SignInForm(UswdsForm):
    username = forms.CharField(
        label="User name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        label="Password",
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    otp = forms.CharField(
        label="Authenticator code",
        max_length=16,
        required=False,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes. "
        "Leave it empty if your account has no authenticator.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
