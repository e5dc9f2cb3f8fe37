"""The referral pages with the duplicate rules of SPEC §2 (issue 15 §4-5): the intake picks an
existing youth from the matches, the accept step links the referral to a visible possible
duplicate, and an exact match with an open case is warned of — before and after an accept
without choosing, as the API answers `warnings`."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from cases.models import Case, Referral
from tests.cases.factories import create_referral, create_youth, open_case
from tests.web.test_story import JASMINE, _intake

pytestmark = pytest.mark.django_db


def _screened(web, supervisor, referral):  # type: ignore[no-untyped-def]
    done = web(supervisor).post(
        f"/app/referrals/{referral.pk}/screen/", {"level": "clear_concern", "instrument": "CSE-IT"}
    )
    assert done.status_code == 302


def test_the_intake_uses_a_record_picked_from_the_matches(people, web):
    worker = people.dcfs_case_worker
    known = create_youth(worker)
    # the live check offers the visible record with a button
    check = web(worker).get("/app/referrals/duplicates/", JASMINE).content.decode()
    assert f'name="pick_youth" value="{known.pk}"' in check

    # pressing it keeps what was typed and names the record; nothing is logged yet
    picked = web(worker).post("/app/referrals/new/", {**_intake(), "pick_youth": str(known.pk)})
    assert picked.status_code == 200
    page = picked.content.decode()
    assert f"Using youth record Y-{known.pk}: Jasmine Carter" in page
    assert f'name="youth" value="{known.pk}"' in page
    assert 'value="Synthetic narrative for the web tests."' not in page  # a textarea keeps its text inside
    assert "Synthetic narrative for the web tests." in page
    assert not Referral.objects.exists()

    # then logging it files the referral on that record, not a new one
    logged = web(worker).post("/app/referrals/new/", {**_intake(), "youth": str(known.pk)})
    assert logged.status_code == 302
    assert Referral.objects.get().youth_id == known.pk


def test_a_record_the_worker_may_not_see_cannot_be_picked(people, web):
    hidden = create_youth(people.probation_supervisor)
    answer = web(people.dcfs_case_worker).post("/app/referrals/new/", {**_intake(), "pick_youth": str(hidden.pk)})
    assert answer.status_code == 404
    assert f"Y-{hidden.pk}" not in answer.content.decode()


def test_accept_links_the_referral_to_a_visible_duplicate_with_an_open_case(people, web):
    supervisor = people.dcfs_supervisor
    existing = open_case(people.dcfs_case_worker, supervisor)
    referral = create_referral(people.dcfs_case_worker, receiving_agency=supervisor.agency)
    _screened(web, supervisor, referral)

    # the detail and the confirmation both say an exact match has an open case
    detail = web(supervisor).get(f"/app/referrals/{referral.pk}/").content.decode()
    assert "an exact match with an open case" in detail
    confirm = web(supervisor).get(f"/app/referrals/{referral.pk}/accept/").content.decode()
    assert f"Record Y-{existing.youth_id}: This youth record matches exactly and has an open case" in confirm
    assert f'name="youth" id="id_youth_1" value="{existing.youth_id}"' in confirm
    assert "Keep this referral&#x27;s own record" in confirm

    # when: they link it to that record
    accepted = web(supervisor).post(f"/app/referrals/{referral.pk}/accept/", {"youth": str(existing.youth_id)})

    # then: it joins the open case, no second case, no warning
    assert accepted["Location"] == f"/app/cases/{existing.pk}/"
    referral.refresh_from_db()
    assert (referral.case_id, referral.youth_id) == (existing.pk, existing.youth_id)
    assert Case.objects.count() == 1
    shown = web(supervisor).get(accepted["Location"]).content.decode()
    assert "matches exactly" not in shown


def test_accepting_without_choosing_warns_as_the_api_does(people, web):
    supervisor = people.dcfs_supervisor
    existing = open_case(people.dcfs_case_worker, supervisor)
    referral = create_referral(people.dcfs_case_worker, receiving_agency=supervisor.agency)
    _screened(web, supervisor, referral)

    accepted = web(supervisor).post(f"/app/referrals/{referral.pk}/accept/", {"youth": ""})

    referral.refresh_from_db()
    assert referral.case_id != existing.pk and Case.objects.count() == 2
    page = web(supervisor).get(accepted["Location"]).content.decode()
    assert "usa-alert--warning" in page
    assert f"Record Y-{existing.youth_id}: This youth record matches exactly and has an open case" in page
    assert AuditEvent.objects.filter(action="search", detail__via="referral_accept").exists()


def test_a_hidden_exact_match_with_an_open_case_is_named_by_agency_only(people, web):
    hidden = open_case(people.probation_case_worker, people.probation_supervisor)
    supervisor = people.dcfs_supervisor
    referral = create_referral(people.dcfs_case_worker, receiving_agency=supervisor.agency)
    _screened(web, supervisor, referral)

    confirm = web(supervisor).get(f"/app/referrals/{referral.pk}/accept/").content.decode()
    assert "A record held by PROBATION: A record you may not see matches exactly" in confirm
    assert f"Y-{hidden.youth_id}" not in confirm
    # and a hidden record cannot be chosen: it answers as an unknown one
    refused = web(supervisor).post(f"/app/referrals/{referral.pk}/accept/", {"youth": str(hidden.youth_id)})
    assert refused.status_code == 400
    assert "Choose a youth record you may see." in refused.content.decode()
    referral.refresh_from_db()
    assert referral.status != Referral.Status.ACCEPTED


def test_the_indicator_checkboxes_describe_each_code_from_the_model(people, web):
    from cases.models import IndicatorCode

    code = IndicatorCode.objects.filter(is_active=True).order_by("code").first()
    code.description = "A description kept by the system admin."
    code.save()
    page = web(people.dcfs_case_worker).get("/app/referrals/new/").content.decode()
    assert f'<label class="usa-checkbox__label" for="indicator-{code.code}">{code.label}' in page
    assert "A description kept by the system admin." in page
