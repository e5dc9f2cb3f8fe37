"""The web app's forms: input parsing only, in the USWDS look. Every rule lives in the services
the forms' views call; their ApplicationError field messages come back onto the fields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
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

    def choice_field(self, name: str) -> forms.ChoiceField:
        """One of this form's choice fields, typed as one (`fields` holds plain Fields): for
        the choices a view sets per request."""
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField), name
        return field

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
        unplaced: list[str] = []
        for key, messages in (exc.fields or {}).items():
            name = (field_map or {}).get(key, key.split(".")[-1] if key.split(".")[-1] in self.fields else key)
            for message in messages if isinstance(messages, list) else [messages]:
                if name in self.fields and not isinstance(self.fields[name].widget, forms.HiddenInput):
                    self.add_error(name, str(message))
                else:
                    # a message about something this form has no visible field for: said on top,
                    # so "see each field" never points at nothing
                    unplaced.append(str(message))
        self.add_error(None, exc.message)
        for message in unplaced:
            self.add_error(None, message)
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


# --- referral intake ------------------------------------------------------------------------------

CLOCK_FIELDS = (
    "hotline_reported_at",
    "written_report_submitted_at",
    "recovered_at",
    "responder_arrived_at",
    "law_enforcement_notified_at",
)


class ReferralIntakeForm(UswdsForm):
    youth = forms.IntegerField(
        label="Existing youth record",
        required=False,
        min_value=1,
        help_text="Leave empty to enter a new youth below. To use a record you may see, pick it from the "
        "possible matches.",
        widget=forms.HiddenInput,
    )
    first_name = forms.CharField(label="First name", max_length=100, required=False)
    last_name = forms.CharField(label="Last name", max_length=100, required=False)
    date_of_birth = BoundedDateField(label="Date of birth", required=False, help_text="If known.")
    aliases = forms.CharField(
        label="Aliases and street names",
        required=False,
        max_length=2000,
        help_text="One per line.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    gender_identity = forms.ChoiceField(label="Gender identity", required=False)
    receiving_agency = forms.ChoiceField(label="Receiving agency", help_text="The agency that screens and decides it.")
    received_at = PacificDateTimeField(label="Received at", help_text="Pacific time.")
    source = forms.ChoiceField(label="Source")
    indicators = forms.MultipleChoiceField(label="Indicators", required=False, widget=forms.CheckboxSelectMultiple)
    narrative = forms.CharField(
        label="Narrative", required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 6})
    )
    hotline_reported_at = PacificDateTimeField(label="Hotline report made", required=False)
    written_report_submitted_at = PacificDateTimeField(label="Written report (SS 8572) submitted", required=False)
    recovered_at = PacificDateTimeField(label="Recovered by law enforcement", required=False)
    responder_arrived_at = PacificDateTimeField(label="Responder arrived on scene", required=False)
    law_enforcement_notified_at = PacificDateTimeField(label="Law enforcement notified", required=False)

    def __init__(self, *args: Any, agencies: list[tuple[str, str]], indicators: list[Any], **kwargs: Any):
        from cases.models import Referral, Youth

        super().__init__(*args, **kwargs)
        self.choice_field("receiving_agency").choices = agencies
        self.choice_field("source").choices = [("", "- Select -"), *Referral.Source.choices]
        self.choice_field("gender_identity").choices = [("", "- Select -"), *Youth.GenderIdentity.choices]
        self.choice_field("indicators").choices = [(i.code, i.label) for i in indicators]
        self.indicator_rows = [
            # what each code means, from the model (IndicatorCode.description, kept by system admins)
            {"code": i.code, "label": i.label, "hint": i.description}
            for i in indicators
        ]
        for name in ("first_name", "last_name", "date_of_birth"):
            self.fields[name].widget.attrs["class"] += " web-dup-input"

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not data.get("youth"):
            for name in ("first_name", "last_name"):
                if not (data.get(name) or "").strip():
                    self.add_error(name, "Enter the youth's name (or pick an existing record from the matches).")
        return data

    def youth_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        out: dict[str, Any] = {
            "first_name": data["first_name"].strip(),
            "last_name": data["last_name"].strip(),
            "date_of_birth": data.get("date_of_birth"),
            "aliases": [a.strip() for a in (data.get("aliases") or "").splitlines() if a.strip()],
        }
        if data.get("gender_identity"):
            out["gender_identity"] = data["gender_identity"]
        return out


class ScreeningForm(UswdsForm):
    level = forms.ChoiceField(label="Level of concern", widget=forms.RadioSelect)
    instrument = forms.CharField(label="Screening instrument", max_length=100, initial="CSE-IT")
    instrument_version = forms.CharField(label="Instrument version", max_length=30, required=False)

    def __init__(self, *args: Any, suggested: str, **kwargs: Any):
        from cases.models import Screening

        super().__init__(*args, **kwargs)
        labels = dict(Screening.Level.choices)
        self.choice_field("level").choices = [
            (code, f"{label} (suggested)" if code == suggested else label) for code, label in labels.items()
        ]
        self.fields["level"].initial = suggested


class ReasonForm(UswdsForm):
    reason = forms.CharField(label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class AcceptForm(UswdsForm):
    """Accept, optionally linking the referral to an existing youth record the supervisor may see
    (SPEC §2): the choices are the referral's own record and the visible possible duplicates."""

    youth = forms.IntegerField(label="Youth record to link", required=False, min_value=1, widget=forms.RadioSelect)

    def __init__(self, *args: Any, own: Any = None, candidates: Sequence[Any] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = []
        if own is not None:
            choices.append(("", f"Keep this referral's own record (Y-{own.pk})"))
        for youth in candidates:
            born = f", born {youth.date_of_birth:%b %-d, %Y}" if youth.date_of_birth else ""
            choices.append((str(youth.pk), f"Link to {youth.first_name} {youth.last_name}{born} (record Y-{youth.pk})"))
        self.fields["youth"].widget.choices = choices


class DuplicateOfForm(UswdsForm):
    duplicate_of = forms.IntegerField(
        label="Original referral number",
        required=False,
        min_value=1,
        help_text="The R- number of the referral this one repeats, if you know it (digits only).",
    )


# --- case page ------------------------------------------------------------------------------------


class NoteForm(UswdsForm):
    visibility = forms.ChoiceField(label="Who may read it", widget=forms.RadioSelect)
    body = forms.CharField(label="Note", max_length=20000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, clinical: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = [
            ("team", "Team — everyone who may see the case, except MDT members"),
            ("agency", "Agency — only people of your agency who may see the case"),
        ]
        if clinical:
            choices.append(("clinical", "Clinical — mental-health information (WIC 5328): DMH staff only"))
        # No choice is made for the writer: the segment is chosen explicitly, every time.
        self.choice_field("visibility").choices = choices


class MissingEpisodeForm(UswdsForm):
    missing_since = PacificDateTimeField(label="Missing since", help_text="Pacific time.")
    learned_at = PacificDateTimeField(label="Your agency learned of it at", help_text="Starts the 24-hour clocks.")
    reported_to_law_enforcement_at = PacificDateTimeField(label="Reported to law enforcement (NCIC)", required=False)
    ncic_number = forms.CharField(label="NCIC number", max_length=50, required=False)
    reported_to_ncmec_at = PacificDateTimeField(label="Reported to NCMEC", required=False)
    attorney_notified_at = PacificDateTimeField(label="Youth's attorney notified", required=False)


class EpisodeReturnForm(UswdsForm):
    """The return and its whole debrief (WIC 16501.35, SPEC §2): when and by whom it was held,
    why the youth left, what happened while away and whether they were exploited, and the
    screening on return. Its clock is met once every part is in; parts may come one at a time.
    The reports of the 24-hour clocks can be completed here too."""

    returned_at = PacificDateTimeField(label="Returned at", help_text="Pacific time. Starts the 72-hour debrief clock.")
    return_debrief_at = PacificDateTimeField(label="Return debrief held at", required=False)
    debriefed_by = forms.ChoiceField(label="Who held the debrief", required=False)
    absence_factors = forms.CharField(
        label="Why the youth left (absence factors)",
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Read by everyone who may see the case, as a team note is.",
    )
    experiences_while_absent = forms.CharField(
        label="What the youth experienced while away",
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Read by everyone who may see the case, as a team note is.",
    )
    exploited_while_absent = forms.ChoiceField(label="Exploited while away?", required=False)
    screening_level = forms.ChoiceField(label="Screening on return: level of concern", required=False)
    screening_instrument = forms.CharField(
        label="Screening instrument", required=False, max_length=100, help_text="Required with a level, e.g. CSE-IT."
    )
    screening_instrument_version = forms.CharField(label="Instrument version", required=False, max_length=30)
    screened_at = PacificDateTimeField(label="Screened at", required=False, help_text="Pacific time; default now.")
    reported_to_law_enforcement_at = PacificDateTimeField(label="Reported to law enforcement (NCIC)", required=False)
    ncic_number = forms.CharField(label="NCIC number", max_length=50, required=False)
    reported_to_ncmec_at = PacificDateTimeField(label="Reported to NCMEC", required=False)
    attorney_notified_at = PacificDateTimeField(label="Youth's attorney notified", required=False)

    def __init__(self, *args: Any, people: Sequence[tuple[str, str]] = (), **kwargs: Any):
        from cases.models import MissingEpisode, Screening

        super().__init__(*args, **kwargs)
        self.choice_field("debriefed_by").choices = [("", "- Who records it -"), *people]
        self.choice_field("exploited_while_absent").choices = [
            ("", "- Not recorded -"),
            *MissingEpisode.Exploited.choices,
        ]
        self.choice_field("screening_level").choices = [("", "- Not screened yet -"), *Screening.Level.choices]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("screening_level") and not (data.get("screening_instrument") or "").strip():
            self.add_error("screening_instrument", "Name the instrument of the screening on return.")
        return data

    def service_data(self, people: dict[int, Any]) -> dict[str, Any]:
        """What `missing_episode_update` takes: only what was filled in (a blank field changes
        nothing), the debriefer as a user and the screening as its own record."""
        data = self.cleaned_data
        out: dict[str, Any] = {}
        for name in (
            "returned_at",
            "return_debrief_at",
            "reported_to_law_enforcement_at",
            "reported_to_ncmec_at",
            "attorney_notified_at",
        ):
            if data.get(name) is not None:
                out[name] = data[name]
        for name in ("absence_factors", "experiences_while_absent", "ncic_number", "exploited_while_absent"):
            if (data.get(name) or "").strip():
                out[name] = data[name].strip()
        if data.get("debriefed_by"):
            out["debriefed_by"] = people.get(int(data["debriefed_by"]))
        if data.get("screening_level"):
            screening: dict[str, Any] = {
                "level": data["screening_level"],
                "instrument": data["screening_instrument"].strip(),
                "instrument_version": (data.get("screening_instrument_version") or "").strip(),
            }
            if data.get("screened_at"):
                screening["screened_at"] = data["screened_at"]
            out["return_screening"] = screening
        return out

    @staticmethod
    def initial_of(episode: Any) -> dict[str, Any]:
        initial: dict[str, Any] = {
            name: getattr(episode, name)
            for name in (
                "returned_at",
                "return_debrief_at",
                "absence_factors",
                "experiences_while_absent",
                "exploited_while_absent",
                "reported_to_law_enforcement_at",
                "ncic_number",
                "reported_to_ncmec_at",
                "attorney_notified_at",
            )
        }
        initial["debriefed_by"] = str(episode.debriefed_by_id or "")
        if episode.return_screening_id:
            screening = episode.return_screening
            initial.update(
                screening_level=screening.level,
                screening_instrument=screening.instrument,
                screening_instrument_version=screening.instrument_version,
                screened_at=screening.screened_at,
            )
        return initial


class GrantForm(UswdsForm):
    agency = forms.ChoiceField(label="Agency")
    legal_basis = forms.ChoiceField(label="Legal basis")
    expires_at = PacificDateTimeField(
        label="Ends at", required=False, help_text="Required for consent: the authorization's end date."
    )
    good_cause = forms.CharField(
        label="Good cause", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, agencies: list[tuple[str, str]], **kwargs: Any):
        from cases.models import CaseAgency

        super().__init__(*args, **kwargs)
        self.choice_field("agency").choices = agencies
        self.choice_field("legal_basis").choices = [c for c in CaseAgency.LegalBasis.choices if c[0] != "lead"]


class RenewForm(UswdsForm):
    good_cause = forms.CharField(
        label="Good cause", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class TeamMemberForm(UswdsForm):
    user = forms.ChoiceField(label="Person")
    case_role = forms.CharField(label="Role on the case", max_length=50, help_text="e.g. social_worker, clinician.")

    def __init__(self, *args: Any, people: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.choice_field("user").choices = people


class ShareApproveForm(GrantForm):
    pass


class FindCaseForm(UswdsForm):
    q = forms.CharField(
        label="Case number or youth name", max_length=100, help_text="e.g. H-2026-000123, or a first or last name."
    )
