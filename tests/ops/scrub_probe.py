"""Run only by tests/ops/test_log_scrub.py (not collected: its name is not test_*.py): one test
that leaks each kind of identifying value into a log line, one that logs ids only."""

from __future__ import annotations

import logging

import pytest

from tests.cases.factories import create_referral
from tests.conftest import client_for
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db
log = logging.getLogger("probe")


@pytest.fixture
def referral(db):  # type: ignore[no-untyped-def]
    from cases import bootstrap

    bootstrap.run()
    agency = AgencyFactory(code="DCFS")
    user = UserFactory(agency=agency, role="case_worker")
    return user, create_referral(
        user, receiving_agency=agency, youth_data={"first_name": "Zenaida"}, narrative="Seen near the pier at night."
    )


def test_leaks_a_name(referral):
    _, ref = referral
    log.warning("youth %s referred", ref.youth.first_name)


def test_leaks_a_narrative_through_extra(referral):
    _, ref = referral
    logging.getLogger("probe.quiet").debug("never emitted at DEBUG: %s", ref.narrative)  # below the level: not written
    log.info("referral logged", extra={"detail": ref.narrative})


def test_leaks_a_date_of_birth_into_a_traceback(referral):
    _, ref = referral
    try:
        raise ValueError(f"bad date {ref.youth.date_of_birth.isoformat()}")
    except ValueError:
        log.exception("date check failed")


def test_leaks_a_token(referral):
    from knox.models import AuthToken

    user, _ = referral
    _, token = AuthToken.objects.create(user=user)
    log.warning("issued %s", token)


def test_logs_ids_only(referral):
    user, ref = referral
    log.warning("referral %s by user %s", ref.pk, user.pk)
    client_for(user).get("/api/v1/youth/matches/?first_name=Zenaida&last_name=Carter")
