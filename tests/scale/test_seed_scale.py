"""seed_scale: the synthetic data the benchmark runs on (PostgreSQL: it loads with COPY)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from accounts.models import User
from audit.services.verify import audit_verify
from cases.crypto import blind_index
from cases.matching import Person
from cases.models import Case, Referral, Youth, YouthSearchKey
from cases.selectors.duplicates import youth_possible_duplicates
from notifications.models import Deadline
from reports.catalogue import CSEC_CATEGORIES, Scope, csec_identification
from reports.periods import Quarter
from scale.models import SeedStage
from scale.seed import SIZES, STAGES

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _seed() -> str:
    out = StringIO()
    call_command("seed_scale", "--size", "tiny", "--quiet", stdout=out)
    return out.getvalue()


def test_seed_scale_refuses_production_settings(settings) -> None:  # type: ignore[no-untyped-def]
    # given
    settings.HARBOR_ENVIRONMENT = "production"
    # when / then
    with pytest.raises(CommandError, match="production"):
        call_command("seed_scale", "--size", "tiny", "--quiet", stdout=StringIO())


def test_seed_scale_loads_every_stage_encrypted_sealed_and_searchable() -> None:
    # given
    call_command("bootstrap", stdout=StringIO())
    size = SIZES["tiny"]
    # when
    _seed()
    # then: the counts the size asks for
    assert Youth.objects.count() == size.youth
    assert Referral.objects.count() == size.referrals
    assert Case.objects.count() == size.cases
    assert Deadline.objects.filter(status="open").count() == size.open_deadlines
    assert set(SeedStage.objects.values_list("name", flat=True)) == {name for name, _ in STAGES}
    # identifying fields are really encrypted, and the blind index finds them
    with connection.cursor() as cur:
        cur.execute("SELECT first_name, date_of_birth, aliases FROM cases_youth LIMIT 1")
        raw = cur.fetchone()
    assert all(value.startswith("fernet:") for value in raw)
    youth = Youth.objects.order_by("id").first()
    assert Youth.objects.filter(last_name_bidx=blind_index(youth.last_name)).filter(pk=youth.pk).exists()
    # the duplicate search works on seeded rows (search keys built by the cases helper)
    assert YouthSearchKey.objects.filter(youth=youth).exists()
    supervisor = User.objects.filter(agency_id=youth.holding_agency_id, role="supervisor").first()
    found = youth_possible_duplicates(
        user=supervisor, person=Person(youth.first_name, youth.last_name, youth.date_of_birth, tuple(youth.aliases))
    )
    assert {"youth": youth.pk, "score": 1.0, "_youth_id": youth.pk} in found
    # the audit chain the seed inserted already sealed verifies
    result = audit_verify()
    assert result.ok and result.checked >= size.audit_events


def test_seed_scale_resumes_and_never_doubles() -> None:
    # given
    call_command("bootstrap", stdout=StringIO())
    _seed()
    youth = Youth.objects.count()
    # when
    out = _seed()
    # then
    assert "done already, skipped" in out
    assert Youth.objects.count() == youth


def test_seed_scale_refuses_a_database_seeded_at_another_size() -> None:
    # given
    call_command("bootstrap", stdout=StringIO())
    SeedStage.objects.create(name="users", size="county")
    # when / then
    with pytest.raises(CommandError, match="county"):
        _seed()


def test_seed_scale_writes_csec_history_the_identification_report_counts() -> None:
    # given: a seeded database
    call_command("bootstrap", stdout=StringIO())
    _seed()
    history = Case.history.model

    # then: every case's history ends at its current csec_status, and opens at_risk
    last: dict[int, str] = {}
    first: dict[int, str] = {}
    for case_id, status in history.objects.order_by("id", "history_date", "history_id").values_list(
        "id", "csec_status"
    ):
        first.setdefault(case_id, status)
        last[case_id] = status
    current = dict(Case.objects.values_list("id", "csec_status"))
    assert last == current
    assert set(first.values()) == {"at_risk"}
    assert history.objects.filter(csec_status__in=CSEC_CATEGORIES, history_type="~").exists()

    # and the CSEC identification report over the seeded period (the last two years) counts
    # identifications: some quarter's category totals are not zero (`<11`, `*` or a count)
    quarter = Quarter.of(timezone.localdate())
    totals = []
    for _ in range(9):
        table = csec_identification(quarter, Scope(agency=None), "agency")["table"]
        totals += [t for t in table["totals"] if t != 0]
        quarter = Quarter(quarter.year - 1, 4) if quarter.number == 1 else Quarter(quarter.year, quarter.number - 1)
    assert totals


def test_seed_scale_adds_csec_history_to_a_database_seeded_before_it() -> None:
    # given: a database seeded before the csec_history stage existed
    call_command("bootstrap", stdout=StringIO())
    _seed()
    history = Case.history.model
    rows = history.objects.count()
    history.objects.all().delete()
    SeedStage.objects.filter(name="csec_history").delete()

    # when: seed_scale runs again
    out = _seed()

    # then: only the new stage ran, and wrote the same history again
    assert "users      done already, skipped" in out
    assert "csec_history" in out and "csec_history done already" not in out
    assert history.objects.count() == rows
    assert Youth.objects.count() == SIZES["tiny"].youth
