"""Who merges and un-merges youth records (SPEC §2), beyond the abuse stories of
tests/security/flows/test_merge.py: what a merge moves and keeps, and undoing a merge whose
source the merging supervisor no longer sees."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404
from django.utils import timezone

from cases.models import Case, Referral, Youth, YouthExternalId
from cases.services import cases as case_services
from cases.services import youth as youth_services
from core.errors import ApplicationError

from .factories import create_referral, create_youth, open_case

pytestmark = pytest.mark.django_db

CHILD = {"first_name": "Jasmine", "last_name": "Carter"}


def _probation_case_shared_with_dcfs(people):  # type: ignore[no-untyped-def]
    case = open_case(people.probation_case_worker, people.probation_supervisor, youth_data=CHILD)
    case_services.case_agency_grant(
        case=case,
        actor=people.probation_supervisor,
        agency=people.dcfs_supervisor.agency,
        legal_basis="consent",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    return case


def test_the_merging_supervisor_undoes_a_merge_whose_source_they_no_longer_see(people, as_user):
    # given: Probation's shared record (with its open case) merged into DCFS's own record
    case = _probation_case_shared_with_dcfs(people)
    source = case.youth
    target = create_youth(people.dcfs_supervisor, **CHILD)
    youth_services.youth_merge(source=source, target=target, actor=people.dcfs_supervisor)
    assert Case.objects.get(pk=case.pk).youth_id == target.pk
    # the source now holds nothing DCFS sees
    assert as_user(people.dcfs_supervisor).get(f"/api/v1/youth/{source.pk}/").status_code == 404
    # when / then: one who sees neither record learns nothing; Probation sees the source but
    # has no right over DCFS's record
    assert as_user(people.sheriff_supervisor).post(f"/api/v1/youth/{source.pk}/unmerge/").status_code == 404
    assert as_user(people.probation_supervisor).post(f"/api/v1/youth/{source.pk}/unmerge/").status_code == 403
    assert as_user(people.dcfs_case_worker).post(f"/api/v1/youth/{source.pk}/unmerge/").status_code == 404
    # the merging supervisor reaches it through the record it was merged into
    response = as_user(people.dcfs_supervisor).post(f"/api/v1/youth/{source.pk}/unmerge/")
    assert response.status_code == 200, response.json()
    assert Case.objects.get(pk=case.pk).youth_id == source.pk
    assert Youth.objects.get(pk=source.pk).merged_into_id is None


def test_an_unmerged_record_nobody_may_see_answers_404_not_409(people, as_user):
    youth = create_youth(people.probation_case_worker, **CHILD)
    assert as_user(people.dcfs_supervisor).post(f"/api/v1/youth/{youth.pk}/unmerge/").status_code == 404
    assert as_user(people.probation_supervisor).post(f"/api/v1/youth/{youth.pk}/unmerge/").status_code == 409


def test_merge_moves_referrals_cases_and_external_ids_and_keeps_their_history(people):
    # given: a DCFS-led case's youth, and DCFS's duplicate record with a referral and a number
    case = open_case(people.dcfs_case_worker, people.dcfs_supervisor)
    duplicate = create_youth(
        people.dcfs_case_worker,
        first_name="Jazmin",
        external_ids=[{"agency": people.dcfs_supervisor.agency, "kind": "hotline", "value": "SYN-77"}],
    )
    referral = create_referral(people.dcfs_case_worker, youth=duplicate)
    # when
    merge = youth_services.youth_merge(source=duplicate, target=case.youth, actor=people.dcfs_supervisor)
    # then
    assert merge.moved["referrals"] == [referral.pk]
    assert Referral.objects.get(pk=referral.pk).youth_id == case.youth_id
    assert YouthExternalId.objects.filter(youth_id=case.youth_id, kind="hotline").exists()
    history = list(Referral.history.filter(id=referral.pk).order_by("history_id").values_list("youth_id", flat=True))
    assert history[0] == duplicate.pk and history[-1] == case.youth_id
    assert (
        Referral.history.filter(id=referral.pk).order_by("history_id").last().history_user_id
        == people.dcfs_supervisor.pk
    )


def test_merge_service_rechecks_rights_itself(people):
    """Not only the API: the service refuses a record another agency has in its charge."""
    other = create_referral(
        people.probation_case_worker, receiving_agency=people.dcfs_supervisor.agency, youth_data=CHILD
    ).youth
    decoy = create_youth(people.dcfs_supervisor, **CHILD)
    with pytest.raises(ApplicationError) as refused:
        youth_services.youth_merge(source=other, target=decoy, actor=people.dcfs_supervisor)
    assert refused.value.status_code == 403
    # and one it cannot see at all is a 404
    hidden = create_youth(people.sheriff_case_worker, first_name="Aria")
    with pytest.raises(Http404):
        youth_services.youth_merge(source=hidden, target=decoy, actor=people.dcfs_supervisor)
