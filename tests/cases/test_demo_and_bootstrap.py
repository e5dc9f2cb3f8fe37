"""bootstrap (indicator codes) and seed_demo (synthetic cases) are idempotent and show every feature."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.demo import seed_demo_users
from accounts.services import agencies_bootstrap
from cases import bootstrap, demo
from cases.models import Case, CaseAgency, CaseTeamMember, IndicatorCode, MissingEpisode, Note, Referral, Youth

pytestmark = pytest.mark.django_db


def test_bootstrap_is_idempotent():
    bootstrap.run()
    first = IndicatorCode.objects.count()
    assert bootstrap.run() == "indicator codes: 0 created"
    assert IndicatorCode.objects.count() == first == 8


def test_seed_demo_shows_every_feature_and_runs_twice():
    # given
    agencies_bootstrap()
    seed_demo_users()
    # when
    summary = demo.seed_demo()
    counts = (Youth.objects.count(), Referral.objects.count(), Case.objects.count(), Note.objects.count())
    again = demo.seed_demo()
    # then
    assert summary.startswith("5 demo scenarios created")
    assert again == "0 demo scenarios created"
    assert counts == (Youth.objects.count(), Referral.objects.count(), Case.objects.count(), Note.objects.count())
    soon = timezone.now() + dt.timedelta(days=14)
    for court in ("STAR", "DREAM"):
        assert Case.objects.filter(
            court=court, hearings__starts_at__gte=timezone.now(), hearings__starts_at__lte=soon
        ).exists(), court
    assert CaseTeamMember.objects.filter(user__username="dmh_case_worker", removed_at__isnull=True).exists()
    assert CaseAgency.objects.filter(agency__code="PROBATION", legal_basis="mdt_18961_7").exists()
    assert MissingEpisode.objects.exists()
    hotline = Referral.objects.get(source="hotline")
    assert hotline.written_report_submitted_at is None
    assert dt.timedelta(hours=24) < timezone.now() - hotline.hotline_reported_at < dt.timedelta(hours=26)
    assert Note.objects.filter(visibility="clinical").exists()
    assert set(Referral.objects.values_list("status", flat=True)) >= {"accepted", "received", "declined"}


def test_every_read_endpoint_answers_every_demo_user_without_error(make_client):
    # given: the demo data, and every demo user
    from accounts.models import User
    from cases.models import MissingEpisode

    agencies_bootstrap()
    seed_demo_users()
    demo.seed_demo()
    parts = [
        "",
        "team/",
        "agencies/",
        "notes/",
        "missing-episodes/",
        "placements/",
        "services/",
        "hearings/",
        "alerts/",
        "timeline/",
        "history/",
    ]
    paths = [
        "/api/v1/youth/",
        "/api/v1/referrals/",
        "/api/v1/cases/",
        "/api/v1/youth/matches/?first_name=Destiny&last_name=Alvarez",
    ]
    paths += [f"/api/v1/cases/{c}/{p}" for c in Case.objects.values_list("id", flat=True) for p in parts]
    paths += [f"/api/v1/referrals/{r}/" for r in Referral.objects.values_list("id", flat=True)]
    paths += [f"/api/v1/youth/{y}/" for y in Youth.objects.values_list("id", flat=True)]
    paths += [f"/api/v1/missing-episodes/{e}/" for e in MissingEpisode.objects.values_list("id", flat=True)]
    # when / then
    seen_any = set()
    for user in User.objects.all():
        client = make_client(user)
        for path in paths:
            status = client.get(path).status_code
            assert status in (200, 403, 404), (user.username, path, status)
            if status == 200:
                seen_any.add(path)
    assert len(seen_any) == len(paths)
