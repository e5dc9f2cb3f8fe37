"""The case page's forms for its parts (placements, services, hearings, safety alerts; issue
15): input parsing only, as web/forms.py. Every rule lives in the services their views call."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone

from core.etags import etag_for

from .forms import BoundedDateField, PacificDateTimeField, UswdsForm, now_local_input

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
