"""Closing and reopening a case (SPEC §2), over HTTP as the people would: a case never closes
while the youth is missing; closing cancels the case's action items and sharing-renewal clock,
ends its court_mdt shares and takes it off unpublished agendas, and leaves the law's reporting
duties open; a closed case takes notes and nothing else; a lead supervisor reopens it with a
reason, and nothing closing ended comes back by itself."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from cases.models import Case, CaseAgency
from mdt.bootstrap import run as mdt_bootstrap
from mdt.models import ActionItem, AgendaItem, MDTTeam
from mdt.services.action_items import action_item_create
from mdt.services.teams import team_member_add
from notifications.models import Deadline
from tests.factories import UserFactory
from tests.mdt.support import add, published_meeting, schedule

from .factories import create_referral

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.json() if response.content else None


def deadline(rule: str, **filters: Any) -> Deadline:
    return Deadline.objects.get(rule__code=rule, **filters)


@pytest.fixture
def world(people, as_user):  # type: ignore[no-untyped-def]
    """A Sheriff referral accepted into a DCFS-led STAR case: a DCFS worker on its team, shared
    with Probation for the STAR MDT (court_mdt) and with DMH under WIC 18961.7; the youth
    missing; on a published STAR agenda with an open action item and on a draft one."""
    now = timezone.now()
    sup = as_user(people.dcfs_supervisor)
    referral = create_referral(
        people.sheriff_case_worker,
        receiving_agency=people.dcfs_supervisor.agency,
        hotline_reported_at=now - dt.timedelta(hours=2),
    )
    ok(sup.post(f"/api/v1/referrals/{referral.pk}/screen/", {"level": "clear_concern", "instrument": "CSE-IT"}))
    case_id = ok(sup.post(f"/api/v1/referrals/{referral.pk}/accept/"))["case"]
    url = f"/api/v1/cases/{case_id}/"
    ok(sup.post(f"{url}team/", {"user": people.dcfs_case_worker.pk, "role": "social_worker"}), 201)
    etag = sup.get(url)["ETag"]
    ok(sup.patch(url, {"court": "STAR"}, format="json", HTTP_IF_MATCH=etag))
    ok(sup.post(f"{url}agencies/", {"agency": "PROBATION", "legal_basis": "court_mdt"}), 201)
    ok(sup.post(f"{url}agencies/", {"agency": "DMH", "legal_basis": "mdt_18961_7"}), 201)
    episode = ok(
        as_user(people.dcfs_case_worker).post(
            f"{url}missing-episodes/",
            {
                "missing_since": (now - dt.timedelta(hours=10)).isoformat(),
                "learned_at": (now - dt.timedelta(hours=9)).isoformat(),
            },
            format="json",
        ),
        201,
    )
    # The STAR team: a Probation coordinator; this week's agenda is published, next one a draft.
    mdt_bootstrap()
    star = MDTTeam.objects.get(code="STAR")
    coordinator = UserFactory(username="star_coordinator", agency=people.probation_supervisor.agency, role="mdt_member")
    team_member_add(team=star, user=coordinator, is_coordinator=True, actor=people.system_admin)
    case = Case.objects.get(pk=case_id)
    published = published_meeting(star, coordinator, [case], starts_at=now + dt.timedelta(days=3))
    draft = schedule(star, coordinator, now + dt.timedelta(days=10))
    add(draft, case, coordinator)
    item = action_item_create(
        case_id=case_id,
        meeting=published,
        description="Synthetic: arrange a school meeting.",
        assignee=coordinator,
        agency=coordinator.agency,
        due_at=now + dt.timedelta(days=5),
        actor=coordinator,
    )
    return SimpleNamespace(
        case_id=case_id,
        url=url,
        referral=referral,
        episode=episode,
        published=published,
        draft=draft,
        item=item,
        coordinator=coordinator,
    )


def returned(as_user, people, world) -> None:  # type: ignore[no-untyped-def]
    client = as_user(people.dcfs_case_worker)
    episode_url = f"/api/v1/missing-episodes/{world.episode['id']}/"
    etag = client.get(episode_url)["ETag"]
    back = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    ok(client.patch(episode_url, {"returned_at": back}, format="json", HTTP_IF_MATCH=etag))


def close(as_user, people, world, reason: str = "Services completed.") -> Any:  # type: ignore[no-untyped-def]
    return as_user(people.dcfs_supervisor).post(f"{world.url}close/", {"reason": reason}, format="json")


def test_a_case_with_an_open_missing_episode_refuses_to_close(people, as_user, world):  # type: ignore[no-untyped-def]
    # when the lead supervisor closes it while the youth is still missing
    response = close(as_user, people, world)
    # then 409, saying why, and nothing changed
    assert response.status_code == 409, response.content
    assert "missing" in response.json()["detail"]
    assert ok(as_user(people.dcfs_supervisor).get(world.url))["status"] == "open"
    assert ActionItem.objects.get(pk=world.item.pk).status == "open"
    assert CaseAgency.objects.get(case_id=world.case_id, agency__code="PROBATION").revoked_at is None


def test_after_the_youth_returns_closing_cancels_action_items_and_ends_the_star_share(people, as_user, world):  # type: ignore[no-untyped-def]
    # given the youth came back
    returned(as_user, people, world)
    renewal = CaseAgency.objects.get(case_id=world.case_id, agency__code="DMH")
    assert deadline("sharing_renewal_30d", object_id=renewal.pk).status == "open"
    probation = as_user(people.probation_supervisor)
    assert probation.get(world.url).status_code == 200  # through the STAR share

    # when the lead supervisor closes the case
    body = ok(close(as_user, people, world))

    # then it is closed with its reason
    assert body["status"] == "closed" and body["close_reason"] == "Services completed." and body["closed_at"]
    # its open action item is cancelled ("case closed"), and so is that item's clock
    item = ActionItem.objects.get(pk=world.item.pk)
    assert item.status == "cancelled" and item.cancel_reason == "case closed"
    assert deadline("action_item_due", object_id=item.pk).status == "cancelled"
    # its sharing-renewal clock is cancelled (the 18961.7 share itself runs out on its own)
    assert deadline("sharing_renewal_30d", object_id=renewal.pk).status == "cancelled"
    # the STAR share ended at once: Probation no longer sees the case
    assert CaseAgency.objects.get(case_id=world.case_id, agency__code="PROBATION").revoked_at is not None
    assert probation.get(world.url).status_code == 404
    # it left the draft agenda; the published one keeps it
    assert not AgendaItem.objects.filter(meeting=world.draft, case_id=world.case_id).exists()
    assert AgendaItem.objects.filter(meeting=world.published, case_id=world.case_id).exists()
    # and the law's reporting duties stay open: the written report (PC 11166) and the
    # episode's reports to law enforcement and NCMEC
    assert deadline("written_report_36h", object_id=world.referral.pk).status in Deadline.ACTIVE
    for rule in ("missing_law_enforcement_24h", "missing_ncmec_24h"):
        assert deadline(rule, object_id=world.episode["id"]).status in Deadline.ACTIVE
    # the action item shows why it was cancelled
    shown = ok(as_user(world.coordinator).get(f"/api/v1/action-items/{item.pk}/"))
    assert shown["status"] == "cancelled" and shown["cancel_reason"] == "case closed"


def test_a_closed_case_takes_notes_and_nothing_else(people, as_user, world):  # type: ignore[no-untyped-def]
    # given a closed case
    returned(as_user, people, world)
    ok(close(as_user, people, world))
    sup, worker = as_user(people.dcfs_supervisor), as_user(people.dcfs_case_worker)
    today = timezone.localdate().isoformat()
    now = timezone.now().isoformat()
    later = (timezone.now() + dt.timedelta(days=10)).isoformat()

    # when the team writes a note: it goes in
    ok(worker.post(f"{world.url}notes/", {"body": "Synthetic closing note.", "visibility": "team"}), 201)

    # when anyone writes anything else on it: 409, saying the case is closed
    refused = [
        sup.patch(world.url, {"csec_status": "identified"}, format="json"),
        sup.post(f"{world.url}team/", {"user": people.dcfs_worker2.pk, "role": "social_worker"}),
        sup.post(f"{world.url}agencies/", {"agency": "SHERIFF", "legal_basis": "consent", "expires_at": later}),
        worker.post(f"{world.url}placements/", {"placement_type": "relative", "start_date": today}, format="json"),
        worker.post(f"{world.url}services/", {"provider": "Synthetic provider", "referred_at": now}, format="json"),
        worker.post(f"{world.url}hearings/", {"starts_at": now, "hearing_type": "review"}, format="json"),
        worker.post(f"{world.url}alerts/", {"kind": "other", "summary": "Synthetic"}, format="json"),
        worker.post(f"{world.url}missing-episodes/", {"missing_since": now, "learned_at": now}, format="json"),
        worker.patch(f"/api/v1/missing-episodes/{world.episode['id']}/", {"returned_at": now}, format="json"),
    ]
    for response in refused:
        assert response.status_code == 409, response.content
        assert "closed" in response.json()["detail"]
    # the MDT cannot record a new action item on it either
    with pytest.raises(Exception, match="closed"):
        action_item_create(
            case_id=world.case_id,
            meeting=world.published,
            description="Synthetic",
            assignee=None,
            agency=world.coordinator.agency,
            due_at=timezone.now() + dt.timedelta(days=2),
            actor=world.coordinator,
        )

    # but a reporting duty that stays open can still be met: the report to NCMEC
    reported = ok(
        worker.patch(
            f"/api/v1/missing-episodes/{world.episode['id']}/",
            {"reported_to_ncmec_at": (timezone.now() - dt.timedelta(minutes=30)).isoformat()},
            format="json",
        )
    )
    assert reported["reported_to_ncmec_at"]
    assert deadline("missing_ncmec_24h", object_id=world.episode["id"]).status == "met"


def test_only_a_supervisor_of_the_lead_agency_closes_with_a_reason(people, as_user, world):  # type: ignore[no-untyped-def]
    returned(as_user, people, world)
    url = f"{world.url}close/"
    body = {"reason": "Synthetic"}
    # a case worker on the team, and the supervisor of a sharing agency: 403
    assert as_user(people.dcfs_case_worker).post(url, body).status_code == 403
    assert as_user(people.dmh_supervisor).post(url, body).status_code == 403
    # an agency that does not take part, admins, MDT members: 404 (no hint that it exists)
    for outsider in (people.sheriff_supervisor, people.dcfs_agency_admin, people.dcfs_mdt_member):
        assert as_user(outsider).post(url, body).status_code == 404
    # the lead supervisor without a reason: 400
    assert as_user(people.dcfs_supervisor).post(url, {"reason": "  "}).status_code == 400
    ok(close(as_user, people, world))
    # closing twice: 409
    assert close(as_user, people, world).status_code == 409


def test_reopening_is_a_lead_supervisor_action_with_a_reason(people, as_user, world):  # type: ignore[no-untyped-def]
    # given a closed case
    returned(as_user, people, world)
    ok(close(as_user, people, world))
    url = f"{world.url}reopen/"
    sup = as_user(people.dcfs_supervisor)

    # who may not: the case worker and a sharing agency's supervisor (403); others see nothing
    assert as_user(people.dcfs_case_worker).post(url, {"reason": "Synthetic"}).status_code == 403
    assert as_user(people.dmh_supervisor).post(url, {"reason": "Synthetic"}).status_code == 403
    assert as_user(people.probation_supervisor).post(url, {"reason": "Synthetic"}).status_code == 404
    assert as_user(people.sheriff_supervisor).post(url, {"reason": "Synthetic"}).status_code == 404
    # no reason: 400
    assert sup.post(url, {}).status_code == 400

    # when the lead supervisor reopens it with a reason
    body = ok(sup.post(url, {"reason": "A new disclosure."}))

    # then it is open again, the reason kept (and the closing in the history)
    assert body["status"] == "open" and body["reopen_reason"] == "A new disclosure." and body["reopened_at"]
    history = ok(sup.get(f"{world.url}history/"))["results"]
    case_changes = [h["fields"] for h in history if h["object_type"] == "case"]
    assert any(f.get("status") == "closed" for f in case_changes)
    assert any(f.get("status") == "open" and "reopen_reason" in f for f in case_changes)
    # reopening twice: 409
    assert sup.post(url, {"reason": "Again"}).status_code == 409
    # nothing closing ended comes back by itself: the STAR share, the cancelled action item
    assert as_user(people.probation_supervisor).get(world.url).status_code == 404
    assert ActionItem.objects.get(pk=world.item.pk).status == "cancelled"
    # the 18961.7 share still running gets its renewal clock again
    renewal = CaseAgency.objects.get(case_id=world.case_id, agency__code="DMH")
    assert Deadline.objects.filter(rule__code="sharing_renewal_30d", object_id=renewal.pk, status="open").exists()
    # and the case takes work again
    today = timezone.localdate().isoformat()
    ok(
        as_user(people.dcfs_case_worker).post(
            f"{world.url}placements/", {"placement_type": "relative", "start_date": today}, format="json"
        ),
        201,
    )


def test_a_case_does_not_reopen_beside_another_open_case_of_the_youth(people, as_user, world):  # type: ignore[no-untyped-def]
    # given the case closed and a new referral of the same youth accepted into a new case
    returned(as_user, people, world)
    ok(close(as_user, people, world))
    sup = as_user(people.dcfs_supervisor)
    again = create_referral(
        people.sheriff_case_worker, youth=world.referral.youth, receiving_agency=people.dcfs_supervisor.agency
    )
    ok(sup.post(f"/api/v1/referrals/{again.pk}/screen/", {"level": "possible_concern", "instrument": "CSE-IT"}))
    new_case = ok(sup.post(f"/api/v1/referrals/{again.pk}/accept/"))["case"]
    assert new_case != world.case_id
    # when the old case is reopened: 409 (one open case per youth), and it stays closed
    response = sup.post(f"{world.url}reopen/", {"reason": "Synthetic"})
    assert response.status_code == 409 and "another open case" in response.json()["detail"]
    assert ok(sup.get(world.url))["status"] == "closed"
