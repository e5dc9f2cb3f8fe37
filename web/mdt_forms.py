"""The MDT workspace's forms (issue 16): input parsing only. Every rule (no meeting in the past,
who may be assigned, what an agenda may hold) is the mdt services'; their refusals come back
onto the fields through UswdsForm.add_service_error."""

from __future__ import annotations

from typing import Any

from django import forms

from .forms import PacificDateTimeField, UswdsForm


class ScheduleMeetingForm(UswdsForm):
    starts_at = PacificDateTimeField(label="Starts at", help_text="Pacific time. Not in the past.")
    ends_at = PacificDateTimeField(label="Ends at", help_text="Pacific time. At most 12 hours after the start.")
    location = forms.CharField(
        label="Place or video link",
        max_length=300,
        required=False,
        help_text="A room, or the link members join by. It goes into calendars: no case details.",
    )


class AgendaItemForm(UswdsForm):
    case = forms.IntegerField(min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    reason = forms.ChoiceField(label="Reason")
    presenting_agency = forms.ChoiceField(label="Presenting agency", required=False)
    minutes_allotted = forms.IntegerField(label="Minutes", min_value=1, max_value=240, initial=10)

    def __init__(self, *args: Any, agencies: list[tuple[str, str]], **kwargs: Any):
        from mdt.models import AgendaItem

        super().__init__(*args, **kwargs)
        self.choice_field("reason").choices = AgendaItem.Reason.choices
        self.choice_field("presenting_agency").choices = [("", "The case's lead agency"), *agencies]


class FindEligibleForm(UswdsForm):
    number = forms.CharField(
        label="Case number", min_length=4, max_length=20, help_text="All or part of it, e.g. H-2026-000123 or 000123."
    )


class AttendanceForm(forms.Form):
    """One present/absent choice per person who may be marked (built by the view)."""

    def __init__(self, *args: Any, people: list[Any], initial_present: dict[int, bool], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.people = people
        for person in people:
            value = initial_present.get(person.pk)
            self.fields[f"p{person.pk}"] = forms.ChoiceField(
                label=person.get_full_name() or person.username,
                choices=[("present", "Present"), ("absent", "Absent")],
                required=False,
                widget=forms.RadioSelect,
                initial=None if value is None else ("present" if value else "absent"),
            )

    def rows(self) -> list[dict[str, Any]]:
        return [{"person": p, "field": self[f"p{p.pk}"]} for p in self.people]


class ReviewForm(UswdsForm):
    summary = forms.CharField(label="Review outcome", max_length=20_000, widget=forms.Textarea(attrs={"rows": 3}))
    decisions = forms.CharField(
        label="Decisions", max_length=20_000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ActionItemForm(UswdsForm):
    description = forms.CharField(label="Action", max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    assignee = forms.ChoiceField(label="Assigned to", help_text="A member of the MDT team or of the case's team.")
    due_at = PacificDateTimeField(label="Due", help_text="Pacific time.")

    def __init__(self, *args: Any, people: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.choice_field("assignee").choices = [("", "- Select -"), *people]


class MinutesForm(UswdsForm):
    minutes = forms.CharField(
        label="Minutes",
        max_length=100_000,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
