"""Indicator codes (SPEC §2, §6 "reference"): a system admin manages them in the Django admin
(list, add, deactivate — never delete), every signed-in user lists them at
`GET /api/v1/indicator-codes/`, and a referral naming an unknown or deactivated code is refused
with a message naming the valid ones."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client

from audit.models import AuditEvent
from cases.models import IndicatorCode, Referral

from .factories import create_referral

pytestmark = pytest.mark.django_db

LIST = "/api/v1/indicator-codes/"
ADMIN = "/admin/cases/indicatorcode/"
FACT_SHEET = {
    "runaway_or_homeless",
    "prior_sexual_abuse",
    "justice_or_truancy_history",
    "controlling_older_partner",
    "tattoos_or_branding",
    "signs_of_violence",
    "unexplained_money_or_gifts",
    "online_solicitation",
}


def _browser(user) -> Client:  # type: ignore[no-untyped-def]
    browser = Client()
    browser.force_login(user)
    return browser


def referral_body(**overrides):  # type: ignore[no-untyped-def]
    body = {
        "youth": {"first_name": "Maya", "last_name": "Reyes", "date_of_birth": "2011-06-02"},
        "received_at": "2026-03-01T10:00:00-08:00",
        "source": "school",
        "indicators": ["runaway_or_homeless"],
    }
    body.update(overrides)
    return body


# --- the list ----------------------------------------------------------------------------------------


def test_every_signed_in_user_lists_the_codes_with_their_labels(people, as_user, api_client):
    for user in (
        people.dcfs_case_worker,
        people.sheriff_supervisor,
        people.dmh_mdt_member,
        people.probation_agency_admin,
        people.dcfs_auditor,
        people.system_admin,
    ):
        answer = as_user(user).get(LIST)
        assert answer.status_code == 200, (user.username, answer.json())
        rows = answer.json()["results"]
        assert {row["code"] for row in rows} == FACT_SHEET
        assert all(row["label"] and row["is_active"] is True for row in rows)
        assert set(rows[0]) == {"id", "code", "label", "description", "is_active"}
    assert api_client.get(LIST).status_code == 401


def test_a_deactivated_code_is_listed_as_inactive_after_the_active_ones(people, as_user):
    IndicatorCode.objects.filter(code="online_solicitation").update(is_active=False)
    rows = as_user(people.dcfs_case_worker).get(LIST).json()["results"]
    assert rows[-1] == {**rows[-1], "code": "online_solicitation", "is_active": False}
    assert all(row["is_active"] for row in rows[:-1])


# --- the admin ---------------------------------------------------------------------------------------


def test_a_system_admin_adds_a_code_in_the_admin_and_referrals_may_use_it(people, as_user):
    browser = _browser(people.system_admin)
    assert browser.get(ADMIN).status_code == 200
    # when
    added = browser.post(
        f"{ADMIN}add/",
        {
            "code": "frequent_hotel_stays",
            "label": "Frequent hotel stays",
            "description": "Synthetic.",
            "is_active": "on",
        },
    )
    # then
    assert added.status_code == 302, added.context["adminform"].form.errors if added.context else ""
    code = IndicatorCode.objects.get(code="frequent_hotel_stays")
    assert AuditEvent.objects.filter(
        object_type="indicator_code", object_id=str(code.pk), action="create", actor_id=people.system_admin.pk
    ).exists()
    assert "frequent_hotel_stays" in {r["code"] for r in as_user(people.dcfs_case_worker).get(LIST).json()["results"]}
    created = as_user(people.dcfs_case_worker).post(
        "/api/v1/referrals/", referral_body(indicators=["frequent_hotel_stays"]), format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["indicators"] == ["frequent_hotel_stays"]


def test_a_system_admin_deactivates_a_code_and_new_referrals_cannot_use_it(people, as_user):
    code = IndicatorCode.objects.get(code="online_solicitation")
    browser = _browser(people.system_admin)
    # when: the changelist action
    answer = browser.post(ADMIN, {"action": "deactivate_selected", "_selected_action": [code.pk]})
    # then
    assert answer.status_code == 302
    code.refresh_from_db()
    assert code.is_active is False
    assert AuditEvent.objects.filter(object_type="indicator_code", object_id=str(code.pk), action="update").exists()
    refused = as_user(people.dcfs_case_worker).post(
        "/api/v1/referrals/", referral_body(indicators=["online_solicitation"]), format="json"
    )
    assert refused.status_code == 400
    [message] = refused.json()["errors"]["indicators"]
    assert "online_solicitation" in message and "runaway_or_homeless" in message
    # the valid ones named are the active ones: the deactivated code is named only as refused
    assert message.count("online_solicitation") == 1


def test_a_code_is_never_deleted_and_its_code_is_fixed(people):
    code = IndicatorCode.objects.get(code="signs_of_violence")
    model_admin = admin.site._registry[IndicatorCode]
    browser = _browser(people.system_admin)
    assert not model_admin.has_delete_permission(None)
    assert browser.get(f"{ADMIN}{code.pk}/delete/").status_code in (302, 403)
    assert "delete_selected" not in browser.get(ADMIN).content.decode()
    changed = browser.post(
        f"{ADMIN}{code.pk}/change/",
        {"code": "renamed", "label": "Signs of physical violence", "description": "", "is_active": "on"},
    )
    assert changed.status_code == 302
    code.refresh_from_db()
    assert (code.code, code.label) == ("signs_of_violence", "Signs of physical violence")
    assert IndicatorCode.objects.filter(code="signs_of_violence").exists()


@pytest.mark.parametrize("who", ["dcfs_agency_admin", "dcfs_supervisor", "dcfs_auditor"])
def test_no_one_else_manages_codes_in_the_admin(people, who):
    user = getattr(people, who)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    browser = _browser(user)
    assert browser.get(ADMIN).status_code in (302, 403)
    assert browser.post(f"{ADMIN}add/", {"code": "sneaky", "label": "Sneaky"}).status_code in (302, 403)
    assert not IndicatorCode.objects.filter(code="sneaky").exists()
    assert "indicatorcode" not in browser.get("/admin/").content.decode()


def test_no_case_data_model_of_cases_is_in_the_admin():
    registered = {model._meta.label for model in admin.site._registry if model._meta.app_label == "cases"}
    assert registered == {"cases.IndicatorCode"}


# --- the error names the valid codes -----------------------------------------------------------------


def test_an_unknown_code_on_create_names_the_valid_ones(people, as_user):
    answer = as_user(people.dcfs_case_worker).post(
        "/api/v1/referrals/", referral_body(indicators=["runaway_or_homeless", "not_a_code"]), format="json"
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] and "indicator-codes" in body["detail"]
    [message] = body["errors"]["indicators"]
    assert "not_a_code" in message
    assert all(code in message for code in FACT_SHEET)
    assert not Referral.objects.exists()


def test_an_unknown_code_on_edit_names_the_valid_ones_and_changes_nothing(people, as_user):
    referral = create_referral(people.dcfs_case_worker)
    client = as_user(people.dcfs_case_worker)
    etag = client.get(f"/api/v1/referrals/{referral.pk}/")["ETag"]
    answer = client.patch(
        f"/api/v1/referrals/{referral.pk}/", {"indicators": ["made_up"]}, format="json", HTTP_IF_MATCH=etag
    )
    assert answer.status_code == 400
    [message] = answer.json()["errors"]["indicators"]
    assert "made_up" in message and "tattoos_or_branding" in message
    referral.refresh_from_db()
    assert referral.indicators == ["runaway_or_homeless"]


def test_a_referral_keeps_a_code_deactivated_after_it_was_recorded(people, as_user):
    # given: a referral recorded with a code that is later deactivated
    referral = create_referral(people.dcfs_case_worker, indicators=["runaway_or_homeless", "online_solicitation"])
    IndicatorCode.objects.filter(code="online_solicitation").update(is_active=False)
    client = as_user(people.dcfs_case_worker)
    etag = client.get(f"/api/v1/referrals/{referral.pk}/")["ETag"]
    # when: its creator adds a code, keeping the old one
    answer = client.patch(
        f"/api/v1/referrals/{referral.pk}/",
        {"indicators": ["runaway_or_homeless", "online_solicitation", "signs_of_violence"]},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    # then
    assert answer.status_code == 200, answer.json()
    assert answer.json()["indicators"] == ["runaway_or_homeless", "online_solicitation", "signs_of_violence"]
