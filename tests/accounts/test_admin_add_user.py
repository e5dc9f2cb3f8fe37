"""The admin's "Add user" as a county agency admin meets it (SPEC §1): the agency preselected and
fixed, a user without an email refused with a message that says why, no "View site" to a 404."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from core.permissions import Role

pytestmark = pytest.mark.django_db

ADD = "/admin/accounts/user/add/"


@pytest.fixture
def admin_browser(dcfs_admin) -> Client:  # type: ignore[no-untyped-def]
    browser = Client()
    browser.force_login(dcfs_admin)
    return browser


def _form(**overrides: object) -> dict:
    return {
        "username": "new_worker",
        "email": "new_worker@example.invalid",
        "first_name": "Ada",
        "last_name": "Example",
        "role": Role.CASE_WORKER,
        **overrides,
    }


def test_the_agency_admins_agency_is_preselected_and_fixed(admin_browser, dcfs_admin):  # type: ignore[no-untyped-def]
    page = admin_browser.get(ADD)
    assert page.status_code == 200
    form = page.context["adminform"].form
    field = form.fields["agency"]
    assert list(field.queryset) == [dcfs_admin.agency]
    assert form["agency"].value() == dcfs_admin.agency.pk
    assert "---------" not in page.content.decode().split('name="agency"', 1)[-1].split("</select>", 1)[0]


def test_the_dcfs_admin_adds_a_user_without_choosing_an_agency(admin_browser, dcfs_admin):  # type: ignore[no-untyped-def]
    # when the form is posted as the browser sends it: the preselected (and only) agency
    response = admin_browser.post(ADD, _form(agency=dcfs_admin.agency.pk))
    # then the user is created in the admin's agency, with no constraint message
    assert response.status_code == 302, response.content.decode()[:500]
    assert User.objects.get(username="new_worker").agency == dcfs_admin.agency
    assert "Constraint" not in response.content.decode()


def test_a_forged_other_agency_is_a_form_error(admin_browser, agencies):  # type: ignore[no-untyped-def]
    response = admin_browser.post(ADD, _form(agency=agencies["PROBATION"].pk))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["agency"]
    assert not User.objects.filter(username="new_worker").exists()


def test_a_user_without_an_email_is_refused_with_a_clear_message(admin_browser, dcfs_admin):  # type: ignore[no-untyped-def]
    response = admin_browser.post(ADD, _form(email="", agency=dcfs_admin.agency.pk))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "invitation" in errors["email"][0] and "never sign in" in errors["email"][0]
    assert not User.objects.filter(username="new_worker").exists()


def test_there_is_no_view_site_link_to_a_404(admin_browser):  # type: ignore[no-untyped-def]
    page = admin_browser.get("/admin/")
    assert page.status_code == 200
    assert "View site" not in page.content.decode()
