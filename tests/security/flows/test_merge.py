"""Abuse stories about merging youth records (SPEC §2, §8 "merge into a decoy").

Merging is for a supervisor whose agency has both records in its charge: for each record, the
agency leads its open case, or holds it when it has no open case — or the agency that has it in
its charge has shared that open case with the supervisor's agency. A merge moves the record's
referrals, cases and external ids, so a merge that crossed into another agency's charge would
hand that agency's child to whoever made the decoy.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from cases.models import Case, Referral, Youth, YouthMerge
from cases.services import cases as case_services
from tests.cases import conftest as cases_fixtures
from tests.cases.factories import create_referral, create_youth, open_case

pytestmark = pytest.mark.django_db

# The cases suite's fixtures: one person per role per partner agency, and the indicator codes.
people = cases_fixtures.people
as_user = cases_fixtures.as_user
indicator_codes = cases_fixtures.indicator_codes

CHILD = {"first_name": "Jasmine", "last_name": "Carter"}


def _merge(client: Any, source: int, into: int) -> int:
    return client.post(f"/api/v1/youth/{source}/merge/", {"into": into}, format="json").status_code


def _nothing_moved(*records: Youth) -> None:
    for record in records:
        assert Youth.objects.get(pk=record.pk).merged_into_id is None
    assert not YouthMerge.objects.exists()


def test_merge_into_a_decoy_is_refused(people, as_user):
    # given: a child Probation holds and referred to DCFS (DCFS's supervisor sees the record) …
    held = create_referral(
        people.probation_case_worker, receiving_agency=people.dcfs_supervisor.agency, youth_data=CHILD
    ).youth
    # … a child whose open case Probation leads, which DCFS referred there (so DCFS sees it) …
    led = open_case(people.probation_case_worker, people.probation_supervisor, youth_data={"first_name": "Jazmin"})
    create_referral(people.dcfs_case_worker, youth=led.youth, receiving_agency=people.probation_supervisor.agency)
    # … and a decoy record DCFS's supervisor makes in their own agency
    decoy = create_youth(people.dcfs_supervisor, **CHILD)
    sup = as_user(people.dcfs_supervisor)
    assert sup.get(f"/api/v1/youth/{held.pk}/").status_code == 200
    assert sup.get(f"/api/v1/youth/{led.youth_id}/").status_code == 200
    # when / then: neither record in Probation's charge goes into the decoy, nor the decoy into it
    assert _merge(sup, held.pk, decoy.pk) == 403
    assert _merge(sup, decoy.pk, held.pk) == 403
    assert _merge(sup, led.youth_id, decoy.pk) == 403
    assert _merge(sup, decoy.pk, led.youth_id) == 403
    _nothing_moved(held, decoy, led.youth)
    assert Case.objects.get(pk=led.pk).youth_id == led.youth_id
    assert Referral.objects.filter(youth=held).count() == 1


def test_merge_across_agencies_needs_a_share_first(people, as_user):
    # given: Probation leads the open case of one record (DCFS referred the child there, so its
    # supervisor sees it); DCFS holds a second record of the same child, with no case
    kept = open_case(people.probation_case_worker, people.probation_supervisor, youth_data=CHILD)
    create_referral(people.dcfs_case_worker, youth=kept.youth, receiving_agency=people.probation_supervisor.agency)
    duplicate_referral = create_referral(
        people.dcfs_case_worker, receiving_agency=people.dcfs_supervisor.agency, youth_data=CHILD
    )
    duplicate = duplicate_referral.youth
    sup = as_user(people.dcfs_supervisor)
    # when / then: before Probation shares its case, DCFS may not merge
    assert _merge(sup, duplicate.pk, kept.youth_id) == 403
    assert _merge(sup, kept.youth_id, duplicate.pk) == 403
    _nothing_moved(duplicate, kept.youth)
    # when: Probation's supervisor shares the case with DCFS
    participation = case_services.case_agency_grant(
        case=kept,
        actor=people.probation_supervisor,
        agency=people.dcfs_supervisor.agency,
        legal_basis="consent",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    # then: DCFS's supervisor merges (a case worker still may not), logged with ids only
    assert _merge(as_user(people.dcfs_case_worker), duplicate.pk, kept.youth_id) == 403
    assert _merge(sup, duplicate.pk, kept.youth_id) == 200
    assert Referral.objects.get(pk=duplicate_referral.pk).youth_id == kept.youth_id
    events = AuditEvent.objects.filter(object_type="youth_merge")
    assert {e.youth_id for e in events} == {duplicate.pk, kept.youth_id}
    for event in events:
        assert "Jasmine" not in str(event.detail) and "Carter" not in str(event.detail)
    # and undoes it while the share runs
    assert sup.post(f"/api/v1/youth/{duplicate.pk}/unmerge/").status_code == 200
    assert Referral.objects.get(pk=duplicate_referral.pk).youth_id == duplicate.pk
    # when: merged again, then the share is revoked
    assert _merge(sup, duplicate.pk, kept.youth_id) == 200
    case_services.case_agency_revoke(participation=participation, actor=people.probation_supervisor)
    # then: the right to undo went with the share
    assert sup.post(f"/api/v1/youth/{duplicate.pk}/unmerge/").status_code == 403
    assert Youth.objects.get(pk=duplicate.pk).merged_into_id == kept.youth_id
