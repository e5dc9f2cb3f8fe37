"""Races on PostgreSQL: two simultaneous accepts of one referral give exactly one success, and
case numbers are allocated without gaps or duplicates under concurrency."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection, transaction

from cases.models import Case, CaseNumberSequence, Referral
from cases.services import cases as case_services
from cases.services import referrals as referral_services

from .factories import create_referral

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(n, work):  # type: ignore[no-untyped-def]
    """Run `work(i)` in n threads released at the same instant; return the results."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def target(i):  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_concurrent_accepts_of_one_referral_give_exactly_one_success(people, make_client):
    # given: a screened referral and two supervisors' clients
    referral = create_referral(people.sheriff_case_worker)
    referral_services.referral_screen(
        referral=referral, actor=people.dcfs_supervisor, level="clear_concern", instrument="CSE-IT"
    )
    clients = [make_client(people.dcfs_supervisor), make_client(people.dcfs_supervisor)]
    # when
    statuses = run_together(2, lambda i: clients[i].post(f"/api/v1/referrals/{referral.pk}/accept/").status_code)
    # then
    assert sorted(statuses) == [200, 409]
    assert Case.objects.count() == 1
    assert Referral.objects.get(pk=referral.pk).case_id == Case.objects.get().pk


def test_case_numbers_are_unique_and_gap_free_under_concurrency(people):
    # given: eight screened referrals for eight children
    referrals = []
    for i in range(8):
        r = create_referral(people.sheriff_case_worker, youth_data={"first_name": f"Child{i}"})
        referral_services.referral_screen(
            referral=r, actor=people.dcfs_supervisor, level="possible_concern", instrument="CSE-IT"
        )
        referrals.append(r)
    # when: all accepted at once
    results = run_together(
        8, lambda i: referral_services.referral_accept(referral=referrals[i], actor=people.dcfs_supervisor).case.number
    )
    # then
    assert not [r for r in results if isinstance(r, Exception)], results
    numbers = sorted(results)
    year = numbers[0][2:6]
    assert numbers == [f"H-{year}-{n:06d}" for n in range(1, 9)]
    assert all(re.fullmatch(r"H-\d{4}-\d{6}", n) for n in numbers)


def _allocate_then_roll_back(year):  # type: ignore[no-untyped-def]
    with transaction.atomic():
        case_services.case_number_allocate(year=year)
        raise RuntimeError("rolled back")


def test_a_rolled_back_case_leaves_no_gap(people):
    with pytest.raises(RuntimeError, match="rolled back"):
        _allocate_then_roll_back(2031)
    with transaction.atomic():
        assert case_services.case_number_allocate(year=2031) == "H-2031-000001"
    results = run_together(6, lambda i: _allocate(2031))
    assert sorted(results) == [f"H-2031-{n:06d}" for n in range(2, 8)]
    assert CaseNumberSequence.objects.get(year=2031).last == 7


def _allocate(year):  # type: ignore[no-untyped-def]
    with transaction.atomic():
        return case_services.case_number_allocate(year=year)
