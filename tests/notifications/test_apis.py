"""GET /api/v1/deadlines/, POST …/waive/, the inbox and the preferences (SPEC §6)."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from notifications.models import Notification
from notifications.services.deadlines import deadline_meet, deadline_open
from notifications.services.sweep import deadlines_sweep
from tests.notifications import factories as f
from tests.notifications.support import T0, H, build_world, open_rule


@pytest.fixture
def world(cast, clock):  # type: ignore[no-untyped-def]
    return build_world(cast)


@pytest.fixture
def all_open(world):  # type: ignore[no-untyped-def]
    """One deadline per rule of the table, by code."""
    from tests.notifications.support import RULE_CASES

    return {rc.code: open_rule(world, rc.code) for rc in RULE_CASES}


def listed(client, query: str = "") -> list[dict]:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/deadlines/{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- who sees which deadline ----------------------------------------------------------------------

REFERRAL_RULES = {"written_report_36h", "first_response_90m", "frp_services_72h", "law_enforcement_report_24h"}
CASE_RULES = {
    "missing_law_enforcement_24h",
    "missing_ncmec_24h",
    "missing_attorney_24h",
    "return_debrief_72h",
    "sharing_renewal_30d",
    "action_item_due",
}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("dcfs_worker", REFERRAL_RULES | CASE_RULES),  # on the case team
        ("sheriff_worker", REFERRAL_RULES | CASE_RULES),  # the referral's creator, on the team
        ("dcfs_supervisor", REFERRAL_RULES | CASE_RULES),  # the lead agency
        ("sheriff_supervisor", REFERRAL_RULES | CASE_RULES),  # a participating agency (18961.7 grant)
        ("dcfs_worker2", set()),  # same agency, not on the team
        ("probation_supervisor", set()),  # an agency not on the case
        ("probation_worker", {"action_item_due"}),  # the assignee only
        ("mdt_coordinator", {"agenda_publish_48h"}),  # the team's coordinator
        ("mdt_member", set()),  # a member who does not coordinate
        ("agency_admin", set()),
        ("auditor", set()),
        ("system_admin", set()),
    ],
)
def test_deadline_visibility(all_open, cast, make_client, who, expected):
    rows = listed(make_client(getattr(cast, who)))

    assert {row["rule"] for row in rows} == expected


def test_a_deadline_row_shape(all_open, world, cast, make_client):
    (row,) = listed(make_client(cast.dcfs_worker), "?rule=written_report_36h")

    assert row == {
        "id": all_open["written_report_36h"].pk,
        "rule": "written_report_36h",
        "rule_name": "Written report due",
        "status": "open",
        "target_type": "referral",
        "target_id": world.referral.pk,
        "case": world.case.pk,
        "case_number": world.case.number,
        "referral": world.referral.pk,
        "team_id": None,
        "assignee": None,
        "reference": f"Referral R-{world.referral.pk}",
        "agency": "SHERIFF",
        "starts_at": "2026-04-06T10:00:00-07:00",
        "upcoming_at": "2026-04-07T10:00:00-07:00",
        "due_at": "2026-04-07T22:00:00-07:00",
        "overdue_at": "2026-04-07T23:00:00-07:00",
        "next_stage": "upcoming",
        "next_reminder_at": "2026-04-07T10:00:00-07:00",
        "met_at": None,
        "recorded_at": None,
        "met_late": False,
        "recorded_late": False,
        "missed_at": None,
        "waived_at": None,
        "waive_reason": "",
        "cancelled_at": None,
        "settled_at": None,
        "settle_reason": "",
        "superseded_by": None,
        "superseded_stages": [],
        "outstanding": True,
        "created_at": row["created_at"],
    }


def test_filters(all_open, world, cast, make_client):
    client = make_client(cast.dcfs_supervisor)
    deadline_meet(rule_code="missing_ncmec_24h", target=world.episode, met_at=T0)

    assert {r["rule"] for r in listed(client, "?status=met")} == {"missing_ncmec_24h"}
    assert {r["rule"] for r in listed(client, "?rule=first_response_90m")} == {"first_response_90m"}
    due_soon = listed(client, "?status=open&due_before=2026-04-07T10:00:00-07:00")
    assert {r["rule"] for r in due_soon} == {
        "first_response_90m",
        "law_enforcement_report_24h",
        "missing_law_enforcement_24h",
        "missing_attorney_24h",
    }
    assert {r["rule"] for r in listed(client, "?due_after=2026-04-20T00:00:00Z")} == {"sharing_renewal_30d"}
    assert {r["rule"] for r in listed(client, "?agency=SHERIFF")} == {"written_report_36h"}
    assert {r["rule"] for r in listed(client, "?agency=PROBATION")} == {"action_item_due"}
    assert [r["due_at"] for r in listed(client)] == sorted(r["due_at"] for r in listed(client))


def test_a_bad_filter_is_a_400(world, cast, make_client):
    response = make_client(cast.dcfs_worker).get("/api/v1/deadlines/?due_before=yesterday")
    assert response.status_code == 400
    assert make_client(cast.dcfs_worker).get("/api/v1/deadlines/?status=late").status_code == 400


def test_listing_deadlines_is_audited_one_event_per_deadline(all_open, world, cast, make_client):
    rows = listed(make_client(cast.dcfs_worker), "?rule=written_report_36h")

    # one `list` event for the page (SPEC §5), carrying the ids shown and the youth they concern
    events = AuditEvent.objects.filter(action="list", object_type="deadline", actor_id=cast.dcfs_worker.pk)
    assert [(e.object_ids, e.youth_ids, e.youth_id) for e in events] == [
        ([rows[0]["id"]], [world.case.youth_id], world.case.youth_id)
    ]


def test_deadline_list_query_count_does_not_grow_with_the_page(cast, rules, make_client, django_assert_num_queries):
    client = make_client(cast.dcfs_supervisor)

    def add(n: int) -> None:
        for _ in range(n):
            referral = f.ReferralFactory(created_by=cast.dcfs_worker, case=f.CaseFactory())
            deadline_open(rule_code="written_report_36h", target=referral, starts_at=T0)

    add(1)
    client.get("/api/v1/deadlines/")  # warm the token
    with django_assert_num_queries(7) as one:  # token, page, one audit event: its id, its INSERT (in a savepoint)
        assert len(client.get("/api/v1/deadlines/").json()["results"]) == 1
    add(49)
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(client.get("/api/v1/deadlines/").json()["results"]) == 50


def test_deadlines_paginate_by_cursor(cast, rules, make_client):
    for _ in range(3):
        deadline_open(
            rule_code="written_report_36h", target=f.ReferralFactory(created_by=cast.dcfs_worker), starts_at=T0
        )
    client = make_client(cast.dcfs_worker)

    page = client.get("/api/v1/deadlines/?page_size=2").json()
    rest = client.get(page["next"]).json()

    assert len(page["results"]) == 2 and len(rest["results"]) == 1 and rest["next"] is None


# --- waiving through the API ------------------------------------------------------------------------


def test_waive(all_open, cast, make_client):
    deadline = all_open["missing_attorney_24h"]  # responsible: DCFS (lead)
    url = f"/api/v1/deadlines/{deadline.pk}/waive/"

    assert make_client(cast.dcfs_worker).post(url, {"reason": "x"}).status_code == 403  # sees it, not a supervisor
    assert make_client(cast.sheriff_supervisor).post(url, {"reason": "x"}).status_code == 403  # sees it, other agency
    assert make_client(cast.probation_supervisor).post(url, {"reason": "x"}).status_code == 404  # cannot see it
    assert make_client(cast.auditor).post(url, {"reason": "x"}).status_code == 404
    assert make_client(cast.dcfs_supervisor).post(url, {}).status_code == 400
    response = make_client(cast.dcfs_supervisor).post(url, {"reason": "Attorney relieved by the court"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["waive_reason"]) == ("waived", "Attorney relieved by the court")
    assert make_client(cast.dcfs_supervisor).post(url, {"reason": "again"}).status_code == 409
    assert make_client(cast.dcfs_supervisor).post("/api/v1/deadlines/999999/waive/", {"reason": "x"}).status_code == 404


# --- the inbox ----------------------------------------------------------------------------------------


@pytest.fixture
def inbox(world, cast, clock):  # type: ignore[no-untyped-def]
    open_rule(world, "written_report_36h")
    open_rule(world, "first_response_90m")
    clock.move_to(T0 + 37 * H)
    deadlines_sweep(redeliver=False)
    return Notification.objects.filter(recipient=cast.sheriff_worker)


def test_the_inbox_shows_only_my_notifications(inbox, cast, make_client, world):
    rows = make_client(cast.sheriff_worker).get("/api/v1/notifications/").json()["results"]

    assert {(r["rule"], r["stage"]) for r in rows} == {
        ("written_report_36h", "overdue"),
        ("first_response_90m", "overdue"),
    }
    row = next(r for r in rows if r["rule"] == "written_report_36h")
    assert set(row) == {
        "id",
        "deadline",
        "rule",
        "stage",
        "reason",
        "subject",
        "reference",
        "due_at",
        "link",
        "case",
        "referral",
        "meeting",
        "delivery_status",
        "sent_at",
        "created_at",
        "read_at",
    }
    assert row["subject"] == f"[Safe Harbor] Overdue: written report due — Referral R-{world.referral.pk}"
    assert (row["read_at"], row["referral"], row["delivery_status"]) == (None, world.referral.pk, "pending")
    assert make_client(cast.dmh_worker).get("/api/v1/notifications/").json()["results"] == []


def test_reading_a_notification(inbox, cast, make_client, clock):
    mine = inbox.first()
    client = make_client(cast.sheriff_worker)
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 2}

    response = client.post(f"/api/v1/notifications/{mine.pk}/read/")
    again = client.post(f"/api/v1/notifications/{mine.pk}/read/")

    assert response.status_code == 200 and response.json()["read_at"] == "2026-04-07T23:00:00-07:00"
    assert again.json()["read_at"] == response.json()["read_at"]
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}
    assert [r["id"] for r in client.get("/api/v1/notifications/?unread=true").json()["results"]] != [mine.pk]
    assert len(client.get("/api/v1/notifications/?unread=false").json()["results"]) == 1
    # someone else's notification does not exist for me
    assert make_client(cast.dcfs_worker).post(f"/api/v1/notifications/{mine.pk}/read/").status_code == 404


def test_inbox_query_count_does_not_grow_with_the_page(
    world, cast, rules, make_client, django_assert_num_queries, clock
):
    client = make_client(cast.dcfs_worker)

    def add(n: int) -> None:
        for _ in range(n):
            referral = f.ReferralFactory(created_by=cast.dcfs_worker)
            deadline_open(rule_code="written_report_36h", target=referral, starts_at=T0)
        deadlines_sweep(now=T0 + 24 * H, redeliver=False)

    add(1)
    client.get("/api/v1/notifications/")
    with django_assert_num_queries(7) as one:  # token, the page, and its audit event (SPEC §5: 5 queries)
        assert len(client.get("/api/v1/notifications/").json()["results"]) == 1
    add(49)
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(client.get("/api/v1/notifications/").json()["results"]) == 50


# --- preferences ----------------------------------------------------------------------------------------


def test_preferences_default_to_email_on(cast, make_client):
    body = make_client(cast.dcfs_worker).get("/api/v1/notification-preferences/").json()

    assert body["overdue_always_emailed"] is True
    assert {r["rule"] for r in body["rules"]} >= {"written_report_36h", "sharing_renewal_30d", "mdt_agenda"}
    assert all(r["email"] for r in body["rules"])


def test_preferences_can_be_changed_per_rule(cast, make_client):
    client = make_client(cast.dcfs_worker)

    response = client.put(
        "/api/v1/notification-preferences/",
        {"rules": [{"rule": "action_item_due", "email": False}, {"rule": "mdt_agenda", "email": False}]},
    )

    assert response.status_code == 200
    chosen = {r["rule"]: r["email"] for r in response.json()["rules"]}
    assert (chosen["action_item_due"], chosen["mdt_agenda"], chosen["written_report_36h"]) == (False, False, True)
    assert client.get("/api/v1/notification-preferences/").json() == response.json()
    assert AuditEvent.objects.filter(object_type="notification_preference", actor_id=cast.dcfs_worker.pk).exists()


def test_preferences_refuse_an_unknown_rule(cast, make_client):
    response = make_client(cast.dcfs_worker).put(
        "/api/v1/notification-preferences/", {"rules": [{"rule": "no_such_rule", "email": False}]}
    )
    assert response.status_code == 400
    assert make_client(cast.dcfs_worker).put("/api/v1/notification-preferences/", {"rules": "x"}).status_code == 400


def test_anonymous_callers_get_401(api_client):
    for path in [
        "/api/v1/deadlines/",
        "/api/v1/notifications/",
        "/api/v1/notifications/unread-count/",
        "/api/v1/notification-preferences/",
    ]:
        assert api_client.get(path).status_code == 401


def test_inbox_rows_match_the_serializer(world, cast, rules, make_client, clock):
    from notifications.apis import NotificationOutputSerializer, inbox_row
    from notifications.services.delivery import notification_send
    from notifications.services.inbox import notification_mark_read
    from notifications.services.notices import meeting_members_notify

    # given an inbox with deadline reminders (one sent by email, one read, one pending) and an
    # agenda notice (a meeting id, no deadline)
    for _ in range(3):
        deadline_open(
            rule_code="written_report_36h", target=f.ReferralFactory(created_by=cast.dcfs_worker), starts_at=T0
        )
    deadlines_sweep(now=T0 + 24 * H, redeliver=False)
    reminders = list(Notification.objects.filter(recipient=cast.dcfs_worker).order_by("id"))
    notification_send(notification_id=reminders[0].pk)
    notification_mark_read(notification=reminders[1], actor=cast.dcfs_worker)
    f.team_membership(world.team, cast.dcfs_worker)
    meeting_members_notify(meeting=world.meeting, event="published", actor=cast.mdt_coordinator)

    # when the inbox is read
    body = make_client(cast.dcfs_worker).get("/api/v1/notifications/").json()

    # then every row is exactly what the serializer makes of it
    rows = Notification.objects.filter(recipient=cast.dcfs_worker).order_by("-id")
    assert body["results"] == [NotificationOutputSerializer(n).data for n in rows]
    assert body["results"] == [inbox_row(n) for n in rows]
    assert {r["delivery_status"] for r in body["results"]} >= {"sent", "pending"}
    assert any(r["sent_at"] for r in body["results"]) and any(r["read_at"] for r in body["results"])
    assert any(r["meeting"] and r["deadline"] is None for r in body["results"])
