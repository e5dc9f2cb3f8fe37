"""Scheduling, publishing, holding, finalising and cancelling meetings (SPEC §4)."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.models import AuditEvent
from mdt.models import Meeting
from mdt.services.agenda import agenda_item_remove, agenda_item_review
from mdt.services.change_notices import agenda_change_notices_send
from mdt.services.meetings import meeting_cancel, meeting_hold, meeting_update
from mdt.services.teams import team_member_remove
from tests.mdt.factories import CaseFactory
from tests.mdt.support import NEXT_WEEK, add, published_meeting, schedule

pytestmark = pytest.mark.django_db

BODY = {"starts_at": "2026-03-11T09:00:00-07:00", "ends_at": "2026-03-11T11:00:00-07:00", "location": "Dept. 2"}


def test_a_coordinator_schedules_a_meeting_and_its_agenda_deadline_opens(
    people, star, make_client, notify_calls, frozen
):  # type: ignore[no-untyped-def]
    # when
    response = make_client(people.star_coordinator).post(
        "/api/v1/mdt/meetings/", {"team": star.pk, **BODY}, format="json"
    )
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["team"] == star.pk and body["team_code"] == "STAR"
    assert body["starts_at"] == "2026-03-11T09:00:00-07:00"
    assert body["status"] == "scheduled" and body["is_coordinator"] is True
    assert body["series"] is None and body["series_meetings"] == [body["id"]]
    (opened,) = notify_calls.named("deadline_open")
    assert opened["rule_code"] == "agenda_publish_48h"
    assert opened["target"].pk == body["id"]
    assert opened["due_at"] == NEXT_WEEK - dt.timedelta(hours=48)


def test_a_weekly_series_keeps_the_pacific_time_across_daylight_saving(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    # given a series starting on Wednesday 4 March (PST), crossing the 8 March change to PDT
    response = make_client(people.star_coordinator).post(
        "/api/v1/mdt/meetings/",
        {
            "team": star.pk,
            "starts_at": "2026-03-04T09:00:00-08:00",
            "ends_at": "2026-03-04T11:00:00-08:00",
            "location": "Dept. 2",
            "repeat_weekly": True,
            "count": 3,
        },
        format="json",
    )
    # then three meetings, all at 9:00 Pacific, sharing a series id
    assert response.status_code == 201, response.content
    ids = response.json()["series_meetings"]
    meetings = list(Meeting.objects.filter(pk__in=ids).order_by("starts_at"))
    assert [m.starts_at for m in meetings] == [
        dt.datetime(2026, 3, 4, 17, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 11, 16, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 18, 16, 0, tzinfo=dt.UTC),
    ]
    assert all(m.ends_at - m.starts_at == dt.timedelta(hours=2) for m in meetings)
    assert len({m.series for m in meetings}) == 1 and meetings[0].series is not None
    listed = make_client(people.da_member).get("/api/v1/mdt/meetings/", {"series": str(meetings[0].series)}).json()
    assert [m["id"] for m in listed["results"]] == [m.pk for m in meetings]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"ends_at": "2026-03-11T08:00:00-07:00"}, "ends_at"),
        ({"ends_at": "2026-03-12T09:00:00-07:00"}, "ends_at"),
        ({"starts_at": "not a time"}, "starts_at"),
        ({"repeat_weekly": True, "count": 53}, "count"),
        ({"team": 999_999}, "team"),
    ],
)
def test_bad_meeting_input_answers_400_with_the_field(people, star, make_client, body, field, frozen):  # type: ignore[no-untyped-def]
    response = make_client(people.star_coordinator).post(
        "/api/v1/mdt/meetings/", {"team": star.pk, **BODY, **body}, format="json"
    )
    assert response.status_code == 400
    payload = response.json()
    assert field in payload["errors"]


def test_only_coordinators_schedule(people, star, dream, make_client, frozen):  # type: ignore[no-untyped-def]
    # a member of the team, a coordinator of another team and an admin may not
    assert (
        make_client(people.da_member)
        .post("/api/v1/mdt/meetings/", {"team": star.pk, **BODY}, format="json")
        .status_code
        == 403
    )
    assert (
        make_client(people.dream_coordinator)
        .post("/api/v1/mdt/meetings/", {"team": star.pk, **BODY}, format="json")
        .status_code
        == 403
    )
    assert (
        make_client(people.system_admin)
        .post("/api/v1/mdt/meetings/", {"team": star.pk, **BODY}, format="json")
        .status_code
        == 403
    )
    assert not Meeting.objects.exists()


def test_publish_notifies_every_member_and_meets_the_deadline(people, star, make_client, notify_calls, frozen):  # type: ignore[no-untyped-def]
    meeting = schedule(star, people.star_coordinator)
    response = make_client(people.star_coordinator).post(f"/api/v1/mdt/meetings/{meeting.pk}/publish/")
    assert response.status_code == 200
    assert response.json()["published_at"] is not None
    (met,) = notify_calls.named("deadline_meet")
    assert met["rule_code"] == "agenda_publish_48h" and met["target"].pk == meeting.pk
    (notice,) = notify_calls.named("meeting_members_notify")
    assert notice["event"] == "published" and notice["meeting"].pk == meeting.pk
    # publishing twice is a 409
    assert make_client(people.star_coordinator).post(f"/api/v1/mdt/meetings/{meeting.pk}/publish/").status_code == 409


def test_changes_after_publishing_notify_again(people, star, make_client, notify_calls, frozen):  # type: ignore[no-untyped-def]
    # given a published agenda
    first, second = CaseFactory(court="STAR"), CaseFactory(court="STAR")
    meeting = published_meeting(star, people.star_coordinator, [first])
    client = make_client(people.star_coordinator)
    # when a case is added, the order changes, the time moves and an item is removed
    added = client.post(
        f"/api/v1/mdt/meetings/{meeting.pk}/items/", {"case": second.pk, "reason": "court_date"}, format="json"
    )
    items = [i["id"] for i in client.get(f"/api/v1/mdt/meetings/{meeting.pk}/items/").json()["results"]]
    client.post(f"/api/v1/mdt/meetings/{meeting.pk}/items/reorder/", {"items": items[::-1]}, format="json")
    client.patch(f"/api/v1/mdt/meetings/{meeting.pk}/", {"location": "Video link"}, format="json")
    client.delete(f"/api/v1/mdt/items/{added.json()['id']}/")
    # then members are told at once of the first change, and (SPEC §4: at most one notice per
    # member per 15 minutes) of the others in one notice at the end of the window
    events = [c["event"] for c in notify_calls.named("meeting_members_notify")]
    assert events == ["published", "changed"]
    frozen.shift(dt.timedelta(minutes=15))
    agenda_change_notices_send(meeting_id=meeting.pk)
    events = [c["event"] for c in notify_calls.named("meeting_members_notify")]
    assert events == ["published", "changed", "changed"]
    assert "items; " not in notify_calls.named("meeting_members_notify")[-1]["change_words"]
    assert notify_calls.named("meeting_members_notify")[-1]["change_words"] == "place; items"
    meeting.refresh_from_db()
    assert meeting.sequence == 1  # the calendar event changed (place)


def test_patch_with_a_stale_if_match_answers_412(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    meeting = schedule(star, people.star_coordinator)
    client = make_client(people.star_coordinator)
    etag = client.get(f"/api/v1/mdt/meetings/{meeting.pk}/")["ETag"]
    frozen.shift(dt.timedelta(seconds=5))
    assert (
        client.patch(
            f"/api/v1/mdt/meetings/{meeting.pk}/", {"location": "A"}, format="json", HTTP_IF_MATCH=etag
        ).status_code
        == 200
    )
    stale = client.patch(f"/api/v1/mdt/meetings/{meeting.pk}/", {"location": "B"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    meeting.refresh_from_db()
    assert meeting.location == "A"


def test_rescheduling_moves_the_agenda_deadline(people, star, notify_calls, frozen):  # type: ignore[no-untyped-def]
    meeting = schedule(star, people.star_coordinator)
    later = NEXT_WEEK + dt.timedelta(days=1)
    meeting_update(
        meeting=meeting,
        data={"starts_at": later, "ends_at": later + dt.timedelta(hours=1)},
        actor=people.star_coordinator,
    )
    assert [c["rule_code"] for c in notify_calls.named("deadline_cancel")] == ["agenda_publish_48h"]
    assert notify_calls.named("deadline_open")[-1]["due_at"] == later - dt.timedelta(hours=48)


def test_the_full_lifecycle_and_minutes_lock_the_meeting(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    # given a published meeting with a case
    case = CaseFactory(court="STAR")
    meeting = published_meeting(star, people.star_coordinator, [case])
    item = meeting.items.get()
    client = make_client(people.star_coordinator)
    url = f"/api/v1/mdt/meetings/{meeting.pk}"
    # during the meeting: attendance, a review, an action item, minutes
    assert (
        client.post(f"{url}/attendance/", {"user": people.da_member.pk, "present": True}, format="json").status_code
        == 201
    )
    assert (
        client.post(f"{url}/attendance/", {"user": people.da_member.pk, "present": False}, format="json").status_code
        == 200
    )
    review = client.post(
        f"/api/v1/mdt/items/{item.pk}/review/", {"summary": "Doing well", "decisions": "Continue"}, format="json"
    )
    assert review.status_code == 200 and review.json()["review_summary"] == "Doing well"
    assert client.post(f"{url}/hold/").status_code == 200
    assert client.patch(f"{url}/", {"minutes": "Reviewed one case."}, format="json").status_code == 200
    # finalising locks it
    final = client.post(f"{url}/finalize-minutes/", {}, format="json")
    assert final.status_code == 200, final.content
    assert final.json()["status"] == "minutes_final" and final.json()["minutes"] == "Reviewed one case."
    # then every further edit is a 409, and nothing changed
    attempts = [
        client.patch(f"{url}/", {"minutes": "Rewritten"}, format="json"),
        client.patch(f"{url}/", {"location": "Elsewhere"}, format="json"),
        client.post(f"{url}/items/", {"case": CaseFactory(court="STAR").pk, "reason": "other"}, format="json"),
        client.post(f"{url}/items/reorder/", {"items": [item.pk]}, format="json"),
        client.post(f"{url}/attendance/", {"user": people.da_member.pk, "present": True}, format="json"),
        client.post(f"/api/v1/mdt/items/{item.pk}/review/", {"summary": "Changed"}, format="json"),
        client.patch(f"/api/v1/mdt/items/{item.pk}/", {"minutes_allotted": 5}, format="json"),
        client.post(f"{url}/cancel/", {}, format="json"),
        client.post(f"{url}/finalize-minutes/", {}, format="json"),
        client.post(
            "/api/v1/action-items/",
            {
                "case": case.pk,
                "meeting": meeting.pk,
                "description": "x",
                "agency": "DA",
                "due_at": "2026-03-20T12:00:00Z",
            },
            format="json",
        ),
    ]
    assert [a.status_code for a in attempts] == [409] * len(attempts)
    meeting.refresh_from_db()
    assert meeting.minutes == "Reviewed one case." and meeting.location == "Compton Courthouse, Dept. 2"


def test_finalising_needs_minutes(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    meeting = published_meeting(star, people.star_coordinator, [])
    meeting_hold(meeting=meeting, actor=people.star_coordinator)
    response = make_client(people.star_coordinator).post(
        f"/api/v1/mdt/meetings/{meeting.pk}/finalize-minutes/", {}, format="json"
    )
    assert response.status_code == 400
    assert "minutes" in response.json()["errors"]


@pytest.mark.parametrize(
    "steps, action, expected",
    [
        ([], "hold", 409),  # scheduled -> held skips publishing
        ([], "finalize-minutes", 409),
        (["publish"], "publish", 409),
        (["publish", "hold"], "cancel", 409),
        (["cancel"], "publish", 409),
        ([], "cancel", 200),
        (["publish"], "cancel", 200),
    ],
)
def test_transitions_not_allowed_now_answer_409(people, star, make_client, steps, action, expected, frozen):  # type: ignore[no-untyped-def]
    meeting = schedule(star, people.star_coordinator)
    client = make_client(people.star_coordinator)
    for step in steps:
        assert client.post(f"/api/v1/mdt/meetings/{meeting.pk}/{step}/", {}, format="json").status_code == 200
    before = Meeting.objects.get(pk=meeting.pk).status
    response = client.post(f"/api/v1/mdt/meetings/{meeting.pk}/{action}/", {"minutes": "m"}, format="json")
    assert response.status_code == expected, response.content
    if expected == 409:
        assert Meeting.objects.get(pk=meeting.pk).status == before


def test_status_can_be_set_through_patch(people, star, make_client, notify_calls, frozen):  # type: ignore[no-untyped-def]
    meeting = schedule(star, people.star_coordinator)
    client = make_client(people.star_coordinator)
    assert (
        client.patch(f"/api/v1/mdt/meetings/{meeting.pk}/", {"status": "published"}, format="json").json()["status"]
        == "published"
    )
    assert (
        client.patch(f"/api/v1/mdt/meetings/{meeting.pk}/", {"status": "minutes_final"}, format="json").status_code
        == 409
    )
    cancelled = client.patch(
        f"/api/v1/mdt/meetings/{meeting.pk}/", {"status": "cancelled", "cancel_reason": "holiday"}, format="json"
    )
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancel_reason"] == "holiday"
    assert [c["event"] for c in notify_calls.named("meeting_members_notify")] == ["published", "cancelled"]


def test_cancelling_a_scheduled_meeting_cancels_its_agenda_deadline(people, star, notify_calls, frozen):  # type: ignore[no-untyped-def]
    meeting = schedule(star, people.star_coordinator)
    meeting_cancel(meeting=meeting, reason="", actor=people.star_coordinator)
    (cancelled,) = notify_calls.named("deadline_cancel")
    assert cancelled["rule_code"] == "agenda_publish_48h" and cancelled["target"].pk == meeting.pk


def test_a_member_only_reads(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    meeting = published_meeting(star, people.star_coordinator, [CaseFactory(court="STAR")])
    client = make_client(people.da_member)
    url = f"/api/v1/mdt/meetings/{meeting.pk}"
    assert client.patch(f"{url}/", {"location": "x"}, format="json").status_code == 403
    assert client.post(f"{url}/hold/").status_code == 403
    assert client.post(f"{url}/cancel/", {}, format="json").status_code == 403
    assert (
        client.post(
            f"{url}/items/", {"case": CaseFactory(court="STAR").pk, "reason": "other"}, format="json"
        ).status_code
        == 403
    )
    # SPEC §1: an MDT member records attendance (and review outcomes); building the agenda is
    # the coordinators'
    assert (
        client.post(f"{url}/attendance/", {"user": people.da_member.pk, "present": True}, format="json").status_code
        == 201
    )
    assert client.get(f"{url}/suggestions/").status_code == 403
    assert client.get(f"{url}/attendance/").status_code == 200


def test_meetings_of_other_teams_answer_404_and_are_not_listed(people, star, dream, make_client, frozen):  # type: ignore[no-untyped-def]
    star_meeting = published_meeting(star, people.star_coordinator, [])
    dream_meeting = published_meeting(dream, people.dream_coordinator, [])
    for user, visible, hidden in [
        (people.da_member, star_meeting, dream_meeting),
        (people.dream_member, dream_meeting, star_meeting),
    ]:
        client = make_client(user)
        assert [m["id"] for m in client.get("/api/v1/mdt/meetings/").json()["results"]] == [visible.pk]
        assert client.get(f"/api/v1/mdt/meetings/{hidden.pk}/").status_code == 404
        assert client.patch(f"/api/v1/mdt/meetings/{hidden.pk}/", {"location": "x"}, format="json").status_code == 404
        assert client.post(f"/api/v1/mdt/meetings/{hidden.pk}/publish/").status_code == 404
    for user in [people.outsider, people.case_worker, people.system_admin, people.auditor, people.agency_admin]:
        client = make_client(user)
        assert client.get("/api/v1/mdt/meetings/").json()["results"] == []
        assert client.get(f"/api/v1/mdt/meetings/{star_meeting.pk}/").status_code == 404
        assert client.get(f"/api/v1/mdt/meetings/{star_meeting.pk}/agenda/").status_code == 404


def test_a_removed_member_loses_access_at_once(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    meeting = published_meeting(star, people.star_coordinator, [])
    client = make_client(people.da_member)
    assert client.get(f"/api/v1/mdt/meetings/{meeting.pk}/").status_code == 200
    team_member_remove(team=star, user_id=people.da_member.pk, actor=people.system_admin)
    assert client.get(f"/api/v1/mdt/meetings/{meeting.pk}/").status_code == 404


def test_meeting_list_filters(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    early = schedule(star, people.star_coordinator, NEXT_WEEK - dt.timedelta(days=7))
    late = published_meeting(star, people.star_coordinator, [])
    client = make_client(people.da_member)
    assert [m["id"] for m in client.get("/api/v1/mdt/meetings/", {"status": "published"}).json()["results"]] == [
        late.pk
    ]
    assert [
        m["id"]
        for m in client.get("/api/v1/mdt/meetings/", {"starts_before": "2026-03-08T00:00:00Z"}).json()["results"]
    ] == [early.pk]
    assert client.get("/api/v1/mdt/meetings/", {"status": "bogus"}).status_code == 400
    assert AuditEvent.objects.filter(actor_id=people.da_member.pk, action="list", object_type="mdt_meeting").exists()


def test_agenda_items_need_a_case_of_the_teams_court(people, star, dream, make_client, frozen):  # type: ignore[no-untyped-def]
    meeting = schedule(star, people.star_coordinator)
    client = make_client(people.star_coordinator)
    url = f"/api/v1/mdt/meetings/{meeting.pk}/items/"
    dream_case = CaseFactory(court="DREAM")
    no_court = CaseFactory(court="")
    closed = CaseFactory(court="STAR", status="closed")
    answers = [
        client.post(url, {"case": c, "reason": "other"}, format="json")
        for c in [dream_case.pk, no_court.pk, closed.pk, 999_999]
    ]
    # the same 400 whatever the reason: nothing is revealed about cases of other courts
    assert {a.status_code for a in answers} == {400}
    assert len({str(a.json()) for a in answers}) == 1
    ok = client.post(url, {"case": CaseFactory(court="STAR").pk, "reason": "new_referral"}, format="json")
    assert ok.status_code == 201 and ok.json()["position"] == 1 and ok.json()["presenting_agency"] == "PROBATION"
    twice = client.post(url, {"case": ok.json()["case"], "reason": "other"}, format="json")
    assert twice.status_code == 400


def test_positions_stay_dense_on_insert_reorder_and_remove(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    meeting = schedule(star, people.star_coordinator)
    client = make_client(people.star_coordinator)
    url = f"/api/v1/mdt/meetings/{meeting.pk}/items/"
    cases = [CaseFactory(court="STAR") for _ in range(4)]
    ids = [client.post(url, {"case": c.pk, "reason": "other"}, format="json").json()["id"] for c in cases[:3]]
    front = client.post(
        url, {"case": cases[3].pk, "reason": "other", "position": 1, "minutes_allotted": 20}, format="json"
    ).json()
    assert front["position"] == 1 and front["minutes_allotted"] == 20

    def order() -> list[int]:
        return [(i["position"], i["id"]) for i in client.get(url).json()["results"]]

    assert order() == [(1, front["id"]), (2, ids[0]), (3, ids[1]), (4, ids[2])]
    bad = client.post(f"{url}reorder/", {"items": [ids[0], ids[1]]}, format="json")
    assert bad.status_code == 400
    dup = client.post(f"{url}reorder/", {"items": [ids[0], ids[0], ids[1], front["id"]]}, format="json")
    assert dup.status_code == 400
    reordered = client.post(f"{url}reorder/", {"items": [ids[2], ids[1], ids[0], front["id"]]}, format="json")
    assert [i["id"] for i in reordered.json()] == [ids[2], ids[1], ids[0], front["id"]]
    assert client.delete(f"/api/v1/mdt/items/{ids[1]}/").status_code == 204
    assert order() == [(1, ids[2]), (2, ids[0]), (3, front["id"])]


def test_a_reviewed_item_cannot_be_removed(people, star, frozen):  # type: ignore[no-untyped-def]
    case = CaseFactory(court="STAR")
    meeting = published_meeting(star, people.star_coordinator, [case])
    item = meeting.items.get()
    agenda_item_review(item=item, summary="s", actor=people.star_coordinator)
    from core.errors import ApplicationError

    with pytest.raises(ApplicationError) as err:
        agenda_item_remove(item=item, actor=people.star_coordinator)
    assert err.value.code == "conflict"


def test_reviews_wait_for_the_agenda_to_be_published(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    meeting = schedule(star, people.star_coordinator)
    item = add(meeting, CaseFactory(court="STAR"), people.star_coordinator)
    response = make_client(people.star_coordinator).post(
        f"/api/v1/mdt/items/{item.pk}/review/", {"summary": "s"}, format="json"
    )
    assert response.status_code == 409


def test_suggestions_are_cases_with_a_hearing_in_the_14_days_after_the_meeting_not_on_the_agenda(
    people, star, make_client, frozen
):  # type: ignore[no-untyped-def]
    from tests.mdt.factories import CourtHearingFactory

    # given STAR cases with hearings soon after next week's meeting, later, and before it (but
    # within 14 days of today), one already on the agenda, and a DREAM case
    soon = CaseFactory(court="STAR")
    sooner = CaseFactory(court="STAR")
    on_agenda = CaseFactory(court="STAR")
    later = CaseFactory(court="STAR")
    before = CaseFactory(court="STAR")
    dream_case = CaseFactory(court="DREAM")
    now = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)
    CourtHearingFactory(case=soon, starts_at=now + dt.timedelta(days=10))
    CourtHearingFactory(case=soon, starts_at=now + dt.timedelta(days=12))
    CourtHearingFactory(case=sooner, starts_at=NEXT_WEEK + dt.timedelta(hours=2))
    CourtHearingFactory(case=on_agenda, starts_at=NEXT_WEEK + dt.timedelta(days=1))
    CourtHearingFactory(case=later, starts_at=NEXT_WEEK + dt.timedelta(days=15))
    CourtHearingFactory(case=before, starts_at=now + dt.timedelta(days=2))
    CourtHearingFactory(case=dream_case, starts_at=NEXT_WEEK + dt.timedelta(days=1))
    meeting = schedule(star, people.star_coordinator)
    add(meeting, on_agenda, people.star_coordinator)
    # when
    response = make_client(people.star_coordinator).get(f"/api/v1/mdt/meetings/{meeting.pk}/suggestions/")
    # then
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["case"] for r in results] == [sooner.pk, soon.pk]
    assert results[1]["next_hearing_at"] == "2026-03-12T10:00:00-07:00"
    assert set(results[0]) == {"case", "case_number", "lead_agency", "csec_status", "next_hearing_at"}


def test_attendance_records_who_and_which_agency(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    meeting = published_meeting(star, people.star_coordinator, [])
    client = make_client(people.star_coordinator)
    url = f"/api/v1/mdt/meetings/{meeting.pk}/attendance/"
    assert client.post(url, {"user": people.da_member.pk, "present": True}, format="json").status_code == 201
    assert (
        client.post(
            url, {"user": people.dmh_clinician.pk, "present": False, "agency": "DMH"}, format="json"
        ).status_code
        == 201
    )
    assert client.post(url, {"user": 999_999, "present": True}, format="json").status_code == 400
    rows = make_client(people.da_member).get(url).json()["results"]
    assert [(r["user"], r["agency"], r["present"]) for r in rows] == [
        (people.da_member.pk, "DA", True),
        (people.dmh_clinician.pk, "DMH", False),
    ]


def test_unknown_format_is_400_and_errors_of_exports_are_json(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    meeting = published_meeting(star, people.star_coordinator, [])
    client = make_client(people.da_member)
    assert client.get(f"/api/v1/mdt/meetings/{meeting.pk}/agenda/", {"format": "xml"}).status_code == 400
    missing = client.get("/api/v1/mdt/meetings/999999/agenda/", {"format": "pdf"})
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"
    assert missing.json() == {"detail": "Not found.", "code": "not_found"}
    missing_ics = client.get("/api/v1/mdt/meetings/999999/calendar.ics")
    assert missing_ics.status_code == 404 and missing_ics["Content-Type"] == "application/json"
    anonymous = client.__class__().get(f"/api/v1/mdt/meetings/{meeting.pk}/agenda/", {"format": "pdf"})
    assert anonymous.status_code == 401 and anonymous["Content-Type"] == "application/json"


def test_publishing_reaches_every_member_through_the_notifications_app(people, star, make_client, frozen):  # type: ignore[no-untyped-def]
    from notifications.models import Notification

    # given a scheduled meeting of a team with three members
    meeting = schedule(star, people.star_coordinator)
    # when the coordinator publishes, then changes the place
    make_client(people.star_coordinator).post(f"/api/v1/mdt/meetings/{meeting.pk}/publish/")
    make_client(people.star_coordinator).patch(
        f"/api/v1/mdt/meetings/{meeting.pk}/", {"location": "Video"}, format="json"
    )
    # then every member got an in-app notice each time, and no one else did — except that the
    # coordinator is not told of their own change (SPEC §4)
    notices = Notification.objects.filter(meeting_id=meeting.pk)
    members = {people.star_coordinator.pk, people.da_member.pk, people.dmh_clinician.pk}
    assert notices.count() == 2 * len(members) - 1
    assert notices.filter(recipient=people.star_coordinator).count() == 1
    assert set(notices.values_list("recipient_id", flat=True)) == members
