"""The web app's forms: input parsing only, in the USWDS look. Every rule lives in the services
the forms' views call; their ApplicationError field messages come back onto the fields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone

from core.errors import ApplicationError
from core.etags import etag_for
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


# --- case parts: placements, services, hearings, safety alerts (issue 15) -------------------------


def today_local() -> dt.date:
    return timezone.localdate()


class VersionedForm(UswdsForm):
    """A change to a part the page showed: `version` carries the part's ETag as the page rendered
    it, and goes to the service as If-Match, so a form left open while someone else changed the
    part is refused (412) instead of overwriting what they saved."""

    version = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)

    def __init__(self, *args: Any, part: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if part is not None and not self.is_bound:
            self.fields["version"].initial = etag_for(part)

    def if_match(self) -> str | None:
        return (self.cleaned_data.get("version") or "").strip() or None

    def refresh_version(self, part: Any) -> None:
        """After a stale submit: what the person typed stays, the version becomes the current one,
        so sending again (having seen the change) is a deliberate choice."""
        data = self.data.copy() if isinstance(self.data, QueryDict) else QueryDict(mutable=True)
        data[self.add_prefix("version")] = etag_for(part)
        self.data = data


class PlacementForm(UswdsForm):
    """A new placement. Without an end date it is the youth's current home: it ends the current
    placement on its start date (SPEC §2; the service does it). The address is offered only to
    those who may read it (the lead agency's case team); sent by anyone else, the service refuses
    it as the API does (403)."""

    placement_type = forms.ChoiceField(label="Type of placement")
    csec_specialized = forms.BooleanField(label="CSEC-specialised placement", required=False)
    start_date = BoundedDateField(label="Start date", initial=today_local)
    address = forms.CharField(
        label="Address",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only the lead agency's case team reads it; never in agendas, exports or emails.",
    )

    def __init__(self, *args: Any, protected: bool, **kwargs: Any):
        from cases.models import Placement

        super().__init__(*args, **kwargs)
        self.offers_address = protected
        self.choice_field("placement_type").choices = [("", "- Select -"), *Placement.PlacementType.choices]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        out = {k: data[k] for k in ("placement_type", "csec_specialized", "start_date")}
        if (data.get("address") or "").strip():
            out["address"] = data["address"].strip()
        return out


class PlacementEndForm(VersionedForm):
    end_date = BoundedDateField(label="End date", initial=today_local)
    end_reason = forms.CharField(
        label="Why it ended", max_length=500, help_text='e.g. "reunified with parent", "moved to a relative".'
    )


def _service_kind_choices(clinical: bool) -> list[tuple[str, str]]:
    from cases.models import ServiceReferral

    return [
        (k, label) for k, label in ServiceReferral.Kind.choices if clinical or k != ServiceReferral.Kind.MENTAL_HEALTH
    ]


class ServiceForm(UswdsForm):
    """A service referral. `mental_health` is clinical information (WIC 5328): offered only to
    those who read clinical notes. The field still parses every kind, so that one sent anyway
    reaches the service and is refused there as on the API (403), not hidden as a form error."""

    provider = forms.CharField(label="Provider", max_length=200)
    kind = forms.ChoiceField(label="Kind of service")
    service_type = forms.CharField(
        label="Service type", required=False, max_length=50, help_text="e.g. therapy, forensic exam."
    )
    evidence_based_practice = forms.CharField(label="Evidence-based practice", required=False, max_length=100)
    referred_at = PacificDateTimeField(label="Referred at", initial=now_local_input, help_text="Pacific time.")

    def __init__(self, *args: Any, clinical: bool, **kwargs: Any):
        from cases.models import ServiceReferral

        super().__init__(*args, **kwargs)
        field = self.choice_field("kind")
        field.choices = [("", "- Select -"), *ServiceReferral.Kind.choices]
        field.widget.choices = [("", "- Select -"), *_service_kind_choices(clinical)]


#: The date each status records (the service's own map, named for the form).
SERVICE_STATUS_DATE = {
    "accepted": "accepted_at",
    "in_progress": "started_at",
    "completed": "ended_at",
    "declined": "ended_at",
    "not_engaged": "ended_at",
    "cancelled": "ended_at",
}
SERVICE_STATUS_WORDS = {
    "accepted": "Accepted by the provider",
    "in_progress": "Started (in progress)",
    "completed": "Completed",
    "declined": "Declined — ends it early",
    "not_engaged": "Not engaged — ends it early",
    "cancelled": "Cancelled — ends it early",
}


class ServiceStatusForm(VersionedForm):
    """Move a service on to one of the statuses its current one allows (SPEC §2), with the date
    that status records — the time given, or now — and, to end it early, the reason."""

    status = forms.ChoiceField(label="New status")
    at = PacificDateTimeField(label="When", required=False, help_text="Pacific time; leave empty for now.")
    status_reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why it was declined, not engaged or cancelled.",
    )

    def __init__(self, *args: Any, service: Any, **kwargs: Any):
        from cases.models import ServiceReferral

        super().__init__(*args, part=service, **kwargs)
        allowed = ServiceReferral.TRANSITIONS.get(service.status, set())
        order = [s for s, _ in ServiceReferral.Status.choices if s in allowed]
        # Offered: the moves its status allows now. Parsed: any status, so that a move no longer
        # allowed (someone moved it meanwhile) is the service's answer (409), as on the API.
        field = self.choice_field("status")
        field.choices = [("", "- Select -"), *((s, SERVICE_STATUS_WORDS.get(s, s)) for s in SERVICE_STATUS_DATE)]
        field.widget.choices = [("", "- Select -"), *((s, SERVICE_STATUS_WORDS[s]) for s in order)]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        out: dict[str, Any] = {"status": data["status"]}
        if data.get("at") is not None:
            out[SERVICE_STATUS_DATE[data["status"]]] = data["at"]
        if (data.get("status_reason") or "").strip():
            out["status_reason"] = data["status_reason"].strip()
        return out

    #: The service's field names on this form's fields.
    FIELD_MAP: dict[str, str] = {"accepted_at": "at", "started_at": "at", "ended_at": "at"}


class HearingForm(UswdsForm):
    starts_at = PacificDateTimeField(label="Date and time", help_text="Pacific time.")
    hearing_type = forms.CharField(label="Type of hearing", max_length=100, help_text="e.g. review, disposition.")
    court = forms.ChoiceField(label="Court", required=False)

    def __init__(self, *args: Any, **kwargs: Any):
        from cases.models import Case

        super().__init__(*args, **kwargs)
        self.choice_field("court").choices = [("", "The case's court"), *Case.Court.choices]


class HearingRescheduleForm(VersionedForm):
    starts_at = PacificDateTimeField(label="New date and time", help_text="Pacific time.")
    reason = forms.CharField(label="Why it moved", max_length=500)

    def service_data(self) -> dict[str, Any]:
        return {
            "status": "rescheduled",
            "starts_at": self.cleaned_data["starts_at"],
            "reason": self.cleaned_data["reason"],
        }


class HearingCancelForm(VersionedForm):
    reason = forms.CharField(label="Why it is cancelled", max_length=500)

    def service_data(self) -> dict[str, Any]:
        return {"status": "cancelled", "reason": self.cleaned_data["reason"]}


class HearingOutcomeForm(VersionedForm):
    outcome = forms.CharField(
        label="Outcome", max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), help_text="What the court decided."
    )

    def service_data(self) -> dict[str, Any]:
        return {"status": "held", "outcome": self.cleaned_data["outcome"]}


class AlertForm(UswdsForm):
    """A safety alert. Its summary is read by everyone who sees the case (and the MDT agenda);
    the protected detail is offered only to the lead agency's case team (the service refuses it
    from anyone else, as the API does)."""

    kind = forms.ChoiceField(label="Kind of alert")
    summary = forms.CharField(
        label="Summary",
        max_length=200,
        help_text="Shown at the top of the case and its agenda view: no names or places here.",
    )
    protected_detail = forms.CharField(
        label="Protected detail",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Who the person is, what not to disclose: only the lead agency's case team reads it.",
    )

    def __init__(self, *args: Any, protected: bool, **kwargs: Any):
        from cases.models import SafetyAlert

        super().__init__(*args, **kwargs)
        self.offers_protected = protected
        self.choice_field("kind").choices = [("", "- Select -"), *SafetyAlert.Kind.choices]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        out = {"kind": data["kind"], "summary": data["summary"].strip()}
        if (data.get("protected_detail") or "").strip():
            out["protected_detail"] = data["protected_detail"].strip()
        return out


class AlertResolveForm(VersionedForm):
    reason = forms.CharField(label="Why it is resolved", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
