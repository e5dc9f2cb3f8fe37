"""The default deadline rules: SPEC §3's table, as data.

`bootstrap` creates the missing ones (never overwriting a system admin's edit); `deadline_open`
creates a missing one on first use so a fresh database or a test database works without it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .models import Recipients, ResponsibleAgency, TargetKind

#: Notices that are not deadlines but still have an email preference.
NOTICE_KINDS = {
    "mdt_agenda": "MDT agenda published or changed",
    "share_request": "An agency asks to share a case your agency leads",
}

H = timedelta(hours=1)

DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "code": "written_report_36h",
        "name": "Written report due",
        "target": TargetKind.REFERRAL,
        "starts_on": "hotline_reported_at (the telephone report)",
        "offset": 36 * H,
        "met_by": "written_report_submitted_at set",
        "legal_source": "Penal Code 11166(a): written report (SS 8572) within 36 hours of the telephone report.",
        "legal_default": "+36 hours",
        "overdue_after": H,
        "recipients": Recipients.REFERRAL,
        # The mandated reporter files the written report: the referral creator's agency.
        "responsible_agency": ResponsibleAgency.REFERRING,
    },
    {
        "code": "first_response_90m",
        "name": "First responder arrival due",
        "target": TargetKind.REFERRAL,
        "starts_on": "recovered_at (law-enforcement recovery)",
        "offset": timedelta(minutes=90),
        "met_by": "responder_arrived_at set",
        "legal_source": "LA County CSEC First Responder Protocol: responders on scene within 90 minutes.",
        "legal_default": "+90 minutes",
        "overdue_after": timedelta(minutes=15),
        "recipients": Recipients.REFERRAL,
        "responsible_agency": ResponsibleAgency.RECEIVING,
    },
    {
        "code": "frp_services_72h",
        "name": "Services and health exam due",
        "target": TargetKind.REFERRAL,
        "starts_on": "recovered_at (law-enforcement recovery)",
        "offset": 72 * H,
        "met_by": "a service referral or health exam recorded",
        "legal_source": "LA County CSEC First Responder Protocol: services and health evaluation within 72 hours.",
        "legal_default": "+72 hours",
        "overdue_after": H,
        "recipients": Recipients.REFERRAL,
        "responsible_agency": ResponsibleAgency.RECEIVING,
    },
    {
        "code": "law_enforcement_report_24h",
        "name": "Law-enforcement report due",
        "target": TargetKind.REFERRAL,
        "starts_on": "screening level clear_concern recorded",
        "offset": 24 * H,
        "met_by": "law_enforcement_notified_at set",
        "legal_source": "Identified victims reported to law enforcement within 24 hours (P.L. 113-183; PC 11166).",
        "legal_default": "+24 hours",
        "overdue_after": H,
        "recipients": Recipients.REFERRAL,
        "responsible_agency": ResponsibleAgency.RECEIVING,
    },
    {
        "code": "missing_law_enforcement_24h",
        "name": "Missing youth law-enforcement report due",
        "target": TargetKind.MISSING_EPISODE,
        "starts_on": "missing episode learned_at",
        "offset": 24 * H,
        "met_by": "reported_to_law_enforcement_at set",
        "legal_source": "P.L. 113-183 §104: missing youth reported to law enforcement (NCIC) within 24 hours.",
        "legal_default": "+24 hours",
        "overdue_after": H,
        "recipients": Recipients.CASE_TEAM,
        "responsible_agency": ResponsibleAgency.LEAD,
    },
    {
        "code": "missing_ncmec_24h",
        "name": "Missing youth NCMEC report due",
        "target": TargetKind.MISSING_EPISODE,
        "starts_on": "missing episode learned_at",
        "offset": 24 * H,
        "met_by": "reported_to_ncmec_at set",
        "legal_source": "P.L. 113-183 §104: missing youth reported to NCMEC within 24 hours.",
        "legal_default": "+24 hours",
        "overdue_after": H,
        "recipients": Recipients.CASE_TEAM,
        "responsible_agency": ResponsibleAgency.LEAD,
    },
    {
        "code": "missing_attorney_24h",
        "name": "Missing youth attorney notice due",
        "target": TargetKind.MISSING_EPISODE,
        "starts_on": "missing episode learned_at",
        "offset": 24 * H,
        "met_by": "attorney_notified_at set",
        "legal_source": "LA DCFS policy: the youth's attorney notified within 24 hours.",
        "legal_default": "+24 hours",
        "overdue_after": H,
        "recipients": Recipients.CASE_TEAM,
        "responsible_agency": ResponsibleAgency.LEAD,
    },
    {
        "code": "return_debrief_72h",
        "name": "Return debrief due",
        "target": TargetKind.MISSING_EPISODE,
        "starts_on": "missing episode returned_at",
        "offset": 72 * H,
        "met_by": "return_debrief_at set",
        "legal_source": "WIC 16501.35: debrief and screening after return (72 hours: county policy).",
        "legal_default": "+72 hours (county policy)",
        "overdue_after": H,
        "recipients": Recipients.CASE_TEAM,
        "responsible_agency": ResponsibleAgency.LEAD,
    },
    {
        "code": "agenda_publish_48h",
        "name": "Agenda publication due",
        "target": TargetKind.MEETING,
        "starts_on": "meeting scheduled",
        "offset": -48 * H,
        "due_anchor": "starts_at",
        "met_by": "agenda published",
        "legal_source": "MDT practice: members get the agenda two days ahead of the meeting.",
        "legal_default": "meeting start − 48 hours",
        "overdue_after": H,
        "recipients": Recipients.MEETING_COORDINATORS,
        "responsible_agency": ResponsibleAgency.NONE,
    },
    {
        "code": "action_item_due",
        "name": "Action item due",
        "target": TargetKind.ACTION_ITEM,
        "starts_on": "action item created",
        "offset": timedelta(0),
        "due_anchor": "due_at",
        "met_by": "item done",
        "legal_source": "MDT action item: the team's agreed due date.",
        "legal_default": "the item's due_at",
        "overdue_after": 24 * H,
        "recipients": Recipients.ASSIGNEE,
        "responsible_agency": ResponsibleAgency.ITEM_AGENCY,
    },
    {
        "code": "sharing_renewal_30d",
        "name": "Sharing renewal due",
        "target": TargetKind.CASE_AGENCY,
        "starts_on": "mdt_18961_7 participation granted",
        "offset": 30 * 24 * H,
        "met_by": "renewed with good cause, or left to expire",
        "legal_source": "WIC 18961.7: county child-abuse MDT sharing lasts 30 days, renewable with good cause.",
        "legal_default": "+30 days",
        # Left to expire is a lawful outcome: no escalation, the deadline counts as met.
        "overdue_after": None,
        "escalate_overdue": False,
        "lapse_outcome": "met",
        "recipients": Recipients.CASE_TEAM,
        "responsible_agency": ResponsibleAgency.LEAD,
    },
]

DEFAULT_RULES_BY_CODE = {rule["code"]: rule for rule in DEFAULT_RULES}
