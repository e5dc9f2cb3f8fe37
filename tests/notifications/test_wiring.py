"""The loop closed end to end: the cases and MDT services open and meet their deadlines through
this app, the agenda view lists them, and a reminder reaches the inbox and the outbox.

These go through the other apps' public services and APIs, exactly as a client would."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from cases.models import CaseAgency, Referral
from cases.services import cases as case_services
from cases.services import missing_episodes as episode_services
from cases.services import referrals as referral_services
from notifications.models import Deadline, Notification
from tests.notifications.factories import YOUTH_FIRST, YOUTH_LAST
from tests.notifications.support import T0, H, all_email_text


@pytest.fixture(autouse=True)
def reference_data(rules):  # type: ignore[no-untyped-def]
    from cases import bootstrap as cases_bootstrap
    from mdt import bootstrap as mdt_bootstrap

    cases_bootstrap.run()
    mdt_bootstrap.run()


def _dcfs_case(cast):  # type: ignore[no-untyped-def]
    """A hotline referral to DCFS, screened and accepted: DCFS's open case."""
    referral = referral_services.referral_create(
        actor=cast.dcfs_worker,
        youth_data={"first_name": "A", "last_name": "B"},
        received_at=T0,
        source="hotline",
    )
    referral_services.referral_screen(
        referral=referral, actor=cast.dcfs_supervisor, level="possible_concern", instrument="CSE-IT"
    )
    return referral_services.referral_accept(referral=referral, actor=cast.dcfs_supervisor).case


def _deadline(rule: str, **filters) -> Deadline:  # type: ignore[no-untyped-def]
    return Deadline.objects.get(rule__code=rule, **filters)


def test_tried_as_a_new_user(cast, make_client, sweep, clock):
    """A referral whose hotline report was 25 hours ago: one sweep brings an "upcoming: written
    report due" reminder to its creator (inbox and email); at 37 hours an overdue reminder
    reaches the creator and the agency's supervisors; recording the written report meets the
    deadline; sweeping again sends nothing new. No email names the youth."""
    worker = make_client(cast.dcfs_worker)
    reported = T0 - 25 * H

    # given a referral logged through the API
    response = worker.post(
        "/api/v1/referrals/",
        {
            "youth": {"first_name": YOUTH_FIRST, "last_name": YOUTH_LAST, "date_of_birth": "2010-02-11"},
            "received_at": reported.isoformat(),
            "source": "hotline",
            "indicators": ["runaway_or_homeless"],
            "narrative": f"{YOUTH_FIRST} called from a motel.",
            "hotline_reported_at": reported.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    referral_id = response.json()["id"]

    # when one sweep runs
    sweep()

    # then the creator has the upcoming reminder in the inbox and by email
    inbox = worker.get("/api/v1/notifications/").json()["results"]
    assert [(n["rule"], n["stage"], n["referral"]) for n in inbox] == [("written_report_36h", "upcoming", referral_id)]
    assert worker.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}
    (email,) = mail.outbox
    assert email.to == [cast.dcfs_worker.email]
    assert email.subject == f"[Safe Harbor] Upcoming: written report due — Referral R-{referral_id}"

    # at 37 hours: overdue, to the creator and, as escalation, the agency's supervisors
    clock.move_to(reported + 37 * H)
    sweep()
    overdue = Notification.objects.filter(stage="overdue").order_by("recipient__username")
    assert [(n.recipient.username, n.reason) for n in overdue] == [
        ("dcfs_supervisor", "escalation"),
        ("dcfs_supervisor2", "escalation"),
        ("dcfs_worker", "responsible"),
    ]
    assert sorted(m.to[0] for m in mail.outbox if "Overdue" in m.subject) == sorted(
        u.email for u in [cast.dcfs_worker, cast.dcfs_supervisor, cast.dcfs_supervisor2]
    )
    supervisor_inbox = make_client(cast.dcfs_supervisor).get("/api/v1/notifications/").json()["results"]
    assert [(n["rule"], n["stage"], n["reason"]) for n in supervisor_inbox] == [
        ("written_report_36h", "overdue", "escalation")
    ]
    # recording the written report meets the deadline (late) and stops further reminders; it is
    # recorded when it has happened (a fact time is never in the future, SPEC §2)
    clock.move_to(reported + 38 * H)
    worker = make_client(cast.dcfs_worker)  # a fresh sign-in: tokens idle out after 30 minutes
    deadlines = worker.get("/api/v1/deadlines/?rule=written_report_36h").json()["results"]
    assert [d["status"] for d in deadlines] == ["missed"]
    patch = worker.patch(
        f"/api/v1/referrals/{referral_id}/",
        {"written_report_submitted_at": (reported + 38 * H).isoformat()},
        format="json",
    )
    assert patch.status_code == 200, patch.content
    deadline = _deadline("written_report_36h", referral_id=referral_id)
    assert (deadline.status, deadline.met_at) == ("met", reported + 38 * H)

    # sweeping again sends nothing new
    sent = len(mail.outbox)
    clock.move_to(reported + 80 * H)
    result = sweep()
    assert (result.notifications, len(mail.outbox), Notification.objects.count()) == (0, sent, 4)
    text = all_email_text()
    assert YOUTH_FIRST not in text and YOUTH_LAST not in text and "motel" not in text


def test_recording_the_report_in_time_means_no_reminder_at_all(cast, make_client, sweep, clock):
    referral = referral_services.referral_create(
        actor=cast.dcfs_worker,
        youth_data={"first_name": "A", "last_name": "B"},
        received_at=T0,
        source="hotline",
        hotline_reported_at=T0,
    )
    clock.move_to(T0 + 3 * H)  # the report is recorded once submitted (a fact time is never in the future)
    patch = make_client(cast.dcfs_worker).patch(
        f"/api/v1/referrals/{referral.pk}/", {"written_report_submitted_at": (T0 + 3 * H).isoformat()}, format="json"
    )
    assert patch.status_code == 200, patch.content

    clock.move_to(T0 + 40 * H)
    assert sweep().notifications == 0
    assert _deadline("written_report_36h").status == "met"


def test_the_referral_clocks_are_opened_and_met_by_the_cases_services(cast):
    referral = referral_services.referral_create(
        actor=cast.sheriff_worker,
        youth_data={"first_name": "A", "last_name": "B"},
        received_at=T0,
        source=Referral.Source.LAW_ENFORCEMENT_RECOVERY,
        recovered_at=T0,
    )
    assert _deadline("first_response_90m").due_at == T0 + 90 * dt.timedelta(minutes=1)
    assert _deadline("frp_services_72h").agency == cast.agencies["DCFS"]

    referral_services.referral_update(
        referral=referral, actor=cast.sheriff_worker, data={"responder_arrived_at": T0 + H}
    )
    referral_services.referral_screen(
        referral=referral, actor=cast.dcfs_supervisor, level="clear_concern", instrument="CSE-IT"
    )
    le = _deadline("law_enforcement_report_24h")
    referral_services.referral_update(
        referral=referral, actor=cast.sheriff_worker, data={"law_enforcement_notified_at": T0 + 2 * H}
    )

    assert _deadline("first_response_90m").status == "met"
    le.refresh_from_db()
    assert le.status == "met"


def test_missing_episode_clocks(cast, clock):
    case = _dcfs_case(cast)

    episode = episode_services.missing_episode_create(
        case=case, actor=cast.dcfs_worker, missing_since=T0 - 6 * H, learned_at=T0
    )
    assert set(Deadline.objects.filter(case=case, status="open").values_list("rule__code", flat=True)) >= {
        "missing_law_enforcement_24h",
        "missing_ncmec_24h",
        "missing_attorney_24h",
    }

    clock.move_to(T0 + 31 * H)  # facts are recorded once they happened (never in the future)
    episode_services.missing_episode_update(
        episode=episode,
        actor=cast.dcfs_worker,
        data={"reported_to_law_enforcement_at": T0 + H, "returned_at": T0 + 30 * H},
    )
    assert _deadline("missing_law_enforcement_24h").status == "met"
    assert _deadline("return_debrief_72h").due_at == T0 + 102 * H


def test_sharing_grants_open_and_renewals_meet_the_30_day_clock(cast, clock):
    case = _dcfs_case(cast)
    grant = case_services.case_agency_grant(
        case=case,
        actor=cast.dcfs_supervisor,
        agency=cast.agencies["DMH"],
        legal_basis=CaseAgency.LegalBasis.MDT_18961_7,
    )
    first = _deadline("sharing_renewal_30d", object_id=grant.pk)
    assert first.due_at == T0 + 30 * 24 * H

    clock.move_to(T0 + 25 * 24 * H)
    case_services.case_agency_renew(participation=grant, actor=cast.dcfs_supervisor, good_cause="Ongoing treatment")

    first.refresh_from_db()
    assert first.status == "met"
    renewed = _deadline("sharing_renewal_30d", object_id=grant.pk, status="open")
    assert renewed.due_at == T0 + 55 * 24 * H


def test_the_mdt_services_open_meet_and_notify(cast, make_client, sweep, clock):
    from mdt.models import MDTTeam
    from mdt.services.action_items import action_item_create, action_item_update
    from mdt.services.agenda import agenda_item_add
    from mdt.services.meetings import meeting_publish, meeting_schedule
    from mdt.services.teams import team_member_add

    star = MDTTeam.objects.get(code="STAR")
    team_member_add(team=star, user=cast.mdt_coordinator, is_coordinator=True, actor=cast.system_admin)
    team_member_add(team=star, user=cast.mdt_member, actor=cast.system_admin)
    team_member_add(team=star, user=cast.probation_worker, actor=cast.system_admin)
    referral = referral_services.referral_create(
        actor=cast.dcfs_worker,
        youth_data={"first_name": YOUTH_FIRST, "last_name": YOUTH_LAST},
        received_at=T0,
        source="hotline",
        hotline_reported_at=T0,
    )
    referral_services.referral_screen(
        referral=referral, actor=cast.dcfs_supervisor, level="possible_concern", instrument="CSE-IT"
    )
    case = referral_services.referral_accept(referral=referral, actor=cast.dcfs_supervisor).case
    case_services.case_update(case=case, actor=cast.dcfs_supervisor, data={"court": "STAR"})

    # scheduling a meeting opens the agenda deadline (due two days before it)
    meeting = meeting_schedule(
        team=star, starts_at=T0 + 7 * 24 * H, ends_at=T0 + 7 * 24 * H + 2 * H, actor=cast.mdt_coordinator
    )[0]
    agenda_deadline = _deadline("agenda_publish_48h")
    assert (agenda_deadline.due_at, agenda_deadline.team_id) == (T0 + 5 * 24 * H, star.pk)

    # its upcoming reminder goes to the coordinator
    clock.move_to(T0 + 80 * H)
    sweep()
    assert [n.recipient for n in Notification.objects.filter(deadline=agenda_deadline)] == [cast.mdt_coordinator]

    # publishing meets it and tells every member
    agenda_item_add(meeting=meeting, case_id=case.pk, reason="new_referral", actor=cast.mdt_coordinator)

    meeting_publish(meeting=meeting, actor=cast.mdt_coordinator)
    agenda_deadline.refresh_from_db()
    assert agenda_deadline.status == "met"
    notices = Notification.objects.filter(meeting_id=meeting.pk, rule="mdt_agenda")
    assert sorted(n.recipient.username for n in notices) == ["mdt_coordinator", "mdt_member", "probation_worker"]

    # an action item opens its deadline; done meets it
    item = action_item_create(
        case_id=case.pk,
        meeting=meeting,
        description="Enroll in school",
        assignee=cast.probation_worker,
        agency=cast.agencies["PROBATION"],
        due_at=T0 + 10 * 24 * H,
        actor=cast.mdt_coordinator,
    )
    item_deadline = _deadline("action_item_due")
    assert (item_deadline.assignee, item_deadline.due_at) == (cast.probation_worker, T0 + 10 * 24 * H)

    # the agenda view lists the case's open deadlines
    agenda = make_client(cast.mdt_coordinator).get(f"/api/v1/mdt/meetings/{meeting.pk}/agenda/")
    assert agenda.status_code == 200, agenda.content
    (entry,) = agenda.json()["items"]
    assert {d["rule"] for d in entry["open_deadlines"]} >= {"written_report_36h", "action_item_due"}

    action_item_update(item=item, data={"status": "done"}, actor=cast.probation_worker)
    item_deadline.refresh_from_db()
    assert item_deadline.status == "met"


def test_deadline_visibility_is_the_cases_rule_a_revoked_share_hides_the_case(cast, clock):
    """Who sees a case's deadlines is decided by cases.selectors.visibility (SPEC §1), not by
    notifications' own reading of the models: a case worker on the team of a case whose agency's
    share was revoked no longer sees the case, nor its deadlines."""
    from notifications.selectors import deadline_list_visible_to

    case = _dcfs_case(cast)
    share = case_services.case_agency_grant(
        case=case,
        actor=cast.dcfs_supervisor,
        agency=cast.agencies["DMH"],
        legal_basis=CaseAgency.LegalBasis.MDT_18961_7,
    )
    case_services.case_team_member_add(
        case=case, actor=cast.dcfs_supervisor, user=cast.dmh_worker, case_role="clinician"
    )
    episode_services.missing_episode_create(case=case, actor=cast.dcfs_worker, missing_since=T0 - 6 * H, learned_at=T0)
    episode_clocks = deadline_list_visible_to(user=cast.dmh_worker).filter(case=case, rule__code="missing_ncmec_24h")
    assert episode_clocks.exists()

    case_services.case_agency_revoke(participation=share, actor=cast.dcfs_supervisor)

    assert not deadline_list_visible_to(user=cast.dmh_worker).filter(case=case).exists()
