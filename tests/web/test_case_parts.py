"""The case page's placements, services, hearings and safety alerts (issue 15), through the
Django test client as staff use them: each form calls the service its API endpoint calls, so the
same rules answer (400 at the field, 403 for a capability one lacks, 404 for what one may not
see, 409 once closed or for a move the state does not allow, 412 for a stale form) and the same
audit events are written as by the API's equivalent write. Times are entered and shown in
Pacific time and stored in UTC."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from cases.models import Case, CourtHearing, Placement, SafetyAlert, ServiceReferral
from cases.services import court_hearings as hearing_services
from cases.services import placements as placement_services
from cases.services import safety_alerts as alert_services
from cases.services import service_referrals as service_referral_services
from cases.services.cases import case_agency_grant
from tests.cases.factories import open_case

pytestmark = pytest.mark.django_db
ANA = {"youth_data": {"first_name": "Ana", "last_name": "Lopez"}}


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def _page(client, case) -> str:  # type: ignore[no-untyped-def]
    answer = client.get(f"/app/cases/{case.pk}/")
    assert answer.status_code == 200
    return answer.content.decode()


def _writes_of(do, case):  # type: ignore[no-untyped-def]
    """The audit events `do` writes, with what names this case (and the objects it creates)
    made comparable between two cases: the same actions, types, outcome and detail."""
    first = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    do()
    rows = AuditEvent.objects.filter(id__gt=first).exclude(action=AuditEvent.Action.LOGIN).order_by("id")

    def detail(d):  # type: ignore[no-untyped-def]
        out = {k: ("ID" if k.startswith("ended_by") else v) for k, v in d.items()}
        if out.get("case") == case.pk:
            out["case"] = "CASE"
        return json.dumps(out, sort_keys=True)

    return [(e.action, e.object_type, e.youth_id == case.youth_id, e.outcome, detail(e.detail)) for e in rows]


def _version(html: str, prefix: str) -> str:
    import re

    found = re.search(rf'name="{prefix}-version" value="([^"]*)"', html)
    assert found, prefix
    return found.group(1).replace("&quot;", '"')


@pytest.fixture
def twins(people):  # type: ignore[no-untyped-def]
    """Two DCFS cases with the DCFS worker on their team: one the page writes, one the API."""
    return (
        open_case(people.dcfs_case_worker, people.dcfs_supervisor),
        open_case(people.dcfs_case_worker, people.dcfs_supervisor, **ANA),
    )


# --- placements ------------------------------------------------------------------------------------


def test_a_new_placement_ends_the_current_one_and_writes_what_the_api_writes(people, web, as_user, twins):
    worker = people.dcfs_case_worker
    case, api_case = twins
    first = {"placement-placement_type": "shelter", "placement-start_date": "2026-11-02"}

    # the form is there for the worker, with the address (the lead agency's case team reads it)
    page = _page(web(worker), case)
    assert f'action="/app/cases/{case.pk}/placements/"' in page and 'name="placement-address"' in page

    def web_adds(data):  # type: ignore[no-untyped-def]
        def do():  # type: ignore[no-untyped-def]
            answer = web(worker).post(f"/app/cases/{case.pk}/placements/", data)
            assert answer.status_code == 302, answer.content.decode()[:2000]
            assert answer["Location"] == f"/app/cases/{case.pk}/#placements"

        return do

    def api_adds(data):  # type: ignore[no-untyped-def]
        return lambda: as_user(worker).post(f"/api/v1/cases/{api_case.pk}/placements/", data, format="json")

    assert _writes_of(web_adds(first), case) == _writes_of(
        api_adds({"placement_type": "shelter", "start_date": "2026-11-02"}), api_case
    )
    second = {
        "placement-placement_type": "foster_home",
        "placement-csec_specialized": "on",
        "placement-start_date": "2026-11-20",
        "placement-address": "1 Synthetic Way",
    }
    web_second = _writes_of(web_adds(second), case)
    api_second = _writes_of(
        api_adds(
            {
                "placement_type": "foster_home",
                "csec_specialized": True,
                "start_date": "2026-11-20",
                "address": "1 Synthetic Way",
            }
        ),
        api_case,
    )
    assert web_second == api_second and len(web_second) == 2  # the new one, and the end of the first

    old, new = Placement.objects.filter(case=case).order_by("start_date")
    assert (old.end_date, old.end_reason) == (dt.date(2026, 11, 20), Placement.NEW_PLACEMENT_REASON)
    assert new.end_date is None and new.csec_specialized and new.address == "1 Synthetic Way"
    page = _page(web(worker), case)
    assert "ended: new placement" in page and "Ended" in page and "1 Synthetic Way" in page
    # only the current one has an end form
    assert f"/placements/{new.pk}/end/" in page and f"/placements/{old.pk}/end/" not in page


def test_ending_a_placement_asks_for_date_and_reason_and_says_so_at_the_field(people, web, as_user, twins):
    worker = people.dcfs_case_worker
    case, api_case = twins
    placement = placement_services.placement_create(
        case=case, actor=worker, placement_type="relative", start_date=dt.date(2026, 10, 1)
    )
    twin = placement_services.placement_create(
        case=api_case, actor=worker, placement_type="relative", start_date=dt.date(2026, 10, 1)
    )
    page = _page(web(worker), case)
    assert "End this placement…" in page and "Yes, end the placement" in page  # the confirmation step
    prefix = f"end{placement.pk}"
    path = f"/app/cases/{case.pk}/placements/{placement.pk}/end/"

    blank = web(worker).post(path, {f"{prefix}-version": _version(page, prefix), f"{prefix}-end_date": "2026-11-01"})
    html = blank.content.decode()
    assert blank.status_code == 400
    assert 'id="error-summary"' in html and f'href="#id_{prefix}-end_reason"' in html
    assert f'id="id_{prefix}-end_reason-error"' in html and 'aria-invalid="true"' in html
    before_start = web(worker).post(
        path, {f"{prefix}-end_date": "2026-09-01", f"{prefix}-end_reason": "Moved."}
    )  # the service's rule, at its field
    assert before_start.status_code == 400 and f'id="id_{prefix}-end_date-error"' in before_start.content.decode()

    def web_ends():  # type: ignore[no-untyped-def]
        answer = web(worker).post(
            path,
            {
                f"{prefix}-version": _version(page, prefix),
                f"{prefix}-end_date": "2026-11-01",
                f"{prefix}-end_reason": "Reunified with parent.",
            },
        )
        assert answer.status_code == 302

    web_events = _writes_of(web_ends, case)
    api_events = _writes_of(
        lambda: as_user(worker).patch(
            f"/api/v1/placements/{twin.pk}/",
            {"end_date": "2026-11-01", "end_reason": "Reunified with parent."},
            format="json",
        ),
        api_case,
    )
    assert web_events == api_events
    placement.refresh_from_db()
    assert (placement.end_date, placement.end_reason) == (dt.date(2026, 11, 1), "Reunified with parent.")


def test_a_stale_form_is_refused_with_a_message_and_changes_nothing(people, web, twins):
    worker, supervisor = people.dcfs_case_worker, people.dcfs_supervisor
    case, _ = twins
    placement = placement_services.placement_create(
        case=case, actor=worker, placement_type="relative", start_date=dt.date(2026, 10, 1)
    )
    prefix = f"end{placement.pk}"
    stale = _version(_page(web(worker), case), prefix)
    # meanwhile the supervisor ends it
    placement_services.placement_update(
        placement=placement, actor=supervisor, data={"end_date": dt.date(2026, 10, 20), "end_reason": "Ran away."}
    )
    answer = web(worker).post(
        f"/app/cases/{case.pk}/placements/{placement.pk}/end/",
        {f"{prefix}-version": stale, f"{prefix}-end_date": "2026-11-01", f"{prefix}-end_reason": "Reunified."},
    )
    html = answer.content.decode()
    assert answer.status_code == 412
    assert 'id="error-summary"' in html and "Someone changed this since you opened the page" in html
    assert "ended: Ran away." in html  # the page shows it as it is now
    placement.refresh_from_db()
    assert (placement.end_date, placement.end_reason) == (dt.date(2026, 10, 20), "Ran away.")


# --- services --------------------------------------------------------------------------------------


def test_a_service_moves_through_its_statuses_with_dates_and_ends_early_with_a_reason(people, web, as_user, twins):
    worker = people.dcfs_case_worker
    case, api_case = twins
    referred = timezone.now() - dt.timedelta(days=3)

    def web_adds():  # type: ignore[no-untyped-def]
        answer = web(worker).post(
            f"/app/cases/{case.pk}/services/",
            {
                "service-provider": "Synthetic Advocacy Center",
                "service-kind": "advocacy",
                "service-referred_at": _local(referred),
            },
        )
        assert answer.status_code == 302, answer.content.decode()[:2000]

    api_add = {"provider": "Synthetic Advocacy Center", "kind": "advocacy", "referred_at": referred.isoformat()}
    assert _writes_of(web_adds, case) == _writes_of(
        lambda: as_user(worker).post(f"/api/v1/cases/{api_case.pk}/services/", api_add, format="json"), api_case
    )
    service = ServiceReferral.objects.get(case=case)
    twin = ServiceReferral.objects.get(case=api_case)
    path = f"/app/cases/{case.pk}/services/{service.pk}/status/"
    prefix = f"svc{service.pk}"

    # accepted two days ago (entered in Pacific time), as the API's PATCH records it
    accepted = timezone.localtime(timezone.now() - dt.timedelta(days=2)).replace(second=0, microsecond=0)
    web_events = _writes_of(
        lambda: web(worker).post(path, {f"{prefix}-status": "accepted", f"{prefix}-at": _local(accepted)}), case
    )
    api_events = _writes_of(
        lambda: as_user(worker).patch(
            f"/api/v1/services/{twin.pk}/", {"status": "accepted", "accepted_at": accepted.isoformat()}, format="json"
        ),
        api_case,
    )
    assert web_events == api_events and web_events[0][0] == AuditEvent.Action.TRANSITION
    service.refresh_from_db()
    assert service.status == "accepted" and service.accepted_at == accepted.astimezone(dt.UTC)

    # a move its status does not allow is the service's 409, said on the form
    skipped = web(worker).post(path, {f"{prefix}-status": "completed"})
    assert skipped.status_code == 409 and 'id="error-summary"' in skipped.content.decode()
    # a start before the acceptance is refused at the date's field
    early = web(worker).post(
        path, {f"{prefix}-status": "in_progress", f"{prefix}-at": _local(accepted - dt.timedelta(days=1))}
    )
    assert early.status_code == 400 and f'id="id_{prefix}-at-error"' in early.content.decode()
    # started now (no date given), then ended early with a reason
    assert web(worker).post(path, {f"{prefix}-status": "in_progress"}).status_code == 302
    ended = web(worker).post(
        path, {f"{prefix}-status": "not_engaged", f"{prefix}-status_reason": "Youth stopped attending."}
    )
    assert ended.status_code == 302
    service.refresh_from_db()
    assert service.status == "not_engaged" and service.ended_at is not None and service.started_at is not None
    page = _page(web(worker), case)
    assert "Youth stopped attending." in page and path not in page  # ended: it moves no more


def test_mental_health_is_offered_only_to_the_clinical_agency_as_the_api_shows_it(people, web, as_user):
    dmh_worker, dcfs = people.dmh_case_worker, people.dcfs_supervisor
    case = open_case(dmh_worker, people.dmh_supervisor)
    case_agency_grant(case=case, actor=people.dmh_supervisor, agency=dcfs.agency, legal_basis="mdt_18961_7")
    referred = _local(timezone.now() - dt.timedelta(hours=2))

    assert '<option value="mental_health"' in _page(web(dmh_worker), case)
    assert '<option value="mental_health"' not in _page(web(dcfs), case)
    added = web(dmh_worker).post(
        f"/app/cases/{case.pk}/services/",
        {"service-provider": "Synthetic Clinic", "service-kind": "mental_health", "service-referred_at": referred},
    )
    assert added.status_code == 302
    service = ServiceReferral.objects.get(case=case)
    assert "Synthetic Clinic" in _page(web(dmh_worker), case)
    dcfs_page = _page(web(dcfs), case)
    assert "Synthetic Clinic" not in dcfs_page and f"/services/{service.pk}/" not in dcfs_page

    # sent anyway: the API's 403 for the kind, its 404 for the service
    api = as_user(dcfs).post(
        f"/api/v1/cases/{case.pk}/services/",
        {"provider": "x", "kind": "mental_health", "referred_at": timezone.now().isoformat()},
        format="json",
    )
    refused = web(dcfs).post(
        f"/app/cases/{case.pk}/services/",
        {"service-provider": "x", "service-kind": "mental_health", "service-referred_at": referred},
    )
    assert api.status_code == refused.status_code == 403
    hidden = web(dcfs).post(
        f"/app/cases/{case.pk}/services/{service.pk}/status/", {f"svc{service.pk}-status": "accepted"}
    )
    assert hidden.status_code == 404 and as_user(dcfs).get(f"/api/v1/services/{service.pk}/").status_code == 404
    assert ServiceReferral.objects.filter(case=case).count() == 1


# --- hearings --------------------------------------------------------------------------------------


def test_hearings_are_scheduled_in_pacific_time_rescheduled_cancelled_and_held(people, web, as_user, twins):
    worker = people.dcfs_case_worker
    case, api_case = twins

    # 9:30 in Los Angeles in December is 17:30 UTC
    scheduled = web(worker).post(
        f"/app/cases/{case.pk}/hearings/",
        {"hearing-starts_at": "2026-12-10T09:30", "hearing-hearing_type": "Review", "hearing-court": "DREAM"},
    )
    assert scheduled.status_code == 302
    hearing = CourtHearing.objects.get(case=case)
    assert hearing.starts_at == dt.datetime(2026, 12, 10, 17, 30, tzinfo=dt.UTC)
    page = _page(web(worker), case)
    assert "Dec 10, 2026, 9:30 AM PST" in page and "Cancel this hearing…" in page

    prefix = f"resched{hearing.pk}"
    path = f"/app/cases/{case.pk}/hearings/{hearing.pk}/reschedule/"
    no_reason = web(worker).post(path, {f"{prefix}-starts_at": "2026-12-17T09:30"})
    assert no_reason.status_code == 400 and f'id="id_{prefix}-reason-error"' in no_reason.content.decode()

    twin = hearing_services.court_hearing_create(
        case=api_case, actor=worker, starts_at=hearing.starts_at, hearing_type="Review", court="DREAM"
    )
    web_events = _writes_of(
        lambda: web(worker).post(
            path,
            {
                f"{prefix}-version": _version(page, prefix),
                f"{prefix}-starts_at": "2026-12-17T09:30",
                f"{prefix}-reason": "Judge unavailable.",
            },
        ),
        case,
    )
    api_events = _writes_of(
        lambda: as_user(worker).patch(
            f"/api/v1/hearings/{twin.pk}/",
            {"status": "rescheduled", "starts_at": "2026-12-17T09:30:00-08:00", "reason": "Judge unavailable."},
            format="json",
        ),
        api_case,
    )
    assert web_events == api_events
    hearing.refresh_from_db()
    assert (hearing.status, hearing.starts_at) == ("rescheduled", dt.datetime(2026, 12, 17, 17, 30, tzinfo=dt.UTC))

    # cancelled with a reason, after the confirmation
    page = _page(web(worker), case)
    assert "Yes, cancel the hearing" in page
    cancel = f"cancel{hearing.pk}"
    web_events = _writes_of(
        lambda: web(worker).post(
            f"/app/cases/{case.pk}/hearings/{hearing.pk}/cancel/",
            {f"{cancel}-version": _version(page, cancel), f"{cancel}-reason": "Case moved to another court."},
        ),
        case,
    )
    api_events = _writes_of(
        lambda: as_user(worker).patch(
            f"/api/v1/hearings/{twin.pk}/",
            {"status": "cancelled", "reason": "Case moved to another court."},
            format="json",
        ),
        api_case,
    )
    assert web_events == api_events
    hearing.refresh_from_db()
    assert hearing.status == "cancelled"
    page = _page(web(worker), case)
    assert f"/hearings/{hearing.pk}/" not in page  # a cancelled hearing moves no more

    # one whose time has come is recorded as held, with its outcome
    past = hearing_services.court_hearing_create(
        case=case, actor=worker, starts_at=timezone.now() - dt.timedelta(hours=3), hearing_type="Disposition"
    )
    page = _page(web(worker), case)
    assert f"/hearings/{past.pk}/outcome/" in page
    out = f"outcome{past.pk}"
    held = web(worker).post(
        f"/app/cases/{case.pk}/hearings/{past.pk}/outcome/",
        {f"{out}-version": _version(page, out), f"{out}-outcome": "Continued in placement."},
    )
    assert held.status_code == 302
    past.refresh_from_db()
    assert (past.status, past.outcome) == ("held", "Continued in placement.")
    # a future one cannot be held: the service says so on the form
    future = f"outcome{hearing.pk}"
    assert (
        web(worker).post(f"/app/cases/{case.pk}/hearings/{hearing.pk}/outcome/", {f"{future}-outcome": "x"}).status_code
        == 409
    )


# --- safety alerts ---------------------------------------------------------------------------------


def test_an_alert_shows_first_and_once_resolved_stays_in_the_history(people, web, as_user, twins):
    worker = people.dcfs_case_worker
    case, api_case = twins

    def web_raises():  # type: ignore[no-untyped-def]
        answer = web(worker).post(
            f"/app/cases/{case.pk}/alerts/",
            {
                "alert-kind": "known_exploiter",
                "alert-summary": "Do not disclose placement.",
                "alert-protected_detail": "Synthetic person of concern.",
            },
        )
        assert answer.status_code == 302 and answer["Location"].endswith("#alerts")

    api_body = {
        "kind": "known_exploiter",
        "summary": "Do not disclose placement.",
        "protected_detail": "Synthetic person of concern.",
    }
    assert _writes_of(web_raises, case) == _writes_of(
        lambda: as_user(worker).post(f"/api/v1/cases/{api_case.pk}/alerts/", api_body, format="json"), api_case
    )
    alert = SafetyAlert.objects.get(case=case)
    page = _page(web(worker), case)
    banner = f"Safety alert: {alert.get_kind_display()}"
    assert page.index(banner) < page.index("<h1>")  # first on the page, above the case's heading

    missing = web(worker).post(f"/app/cases/{case.pk}/alerts/", {"alert-kind": "", "alert-summary": ""})
    body = missing.content.decode()
    assert missing.status_code == 400
    assert 'href="#id_alert-kind"' in body and 'href="#id_alert-summary"' in body

    prefix = f"resolve{alert.pk}"
    twin = SafetyAlert.objects.get(case=api_case)
    web_events = _writes_of(
        lambda: web(worker).post(
            f"/app/cases/{case.pk}/alerts/{alert.pk}/resolve/",
            {f"{prefix}-version": _version(page, prefix), f"{prefix}-reason": "Person of concern in custody."},
        ),
        case,
    )
    api_events = _writes_of(
        lambda: as_user(worker).post(
            f"/api/v1/alerts/{twin.pk}/resolve/", {"reason": "Person of concern in custody."}, format="json"
        ),
        api_case,
    )
    assert web_events == api_events
    page = _page(web(worker), case)
    assert banner not in page  # no longer at the top
    assert "Resolved" in page and "Person of concern in custody." in page  # kept in the history
    again = web(worker).post(f"/app/cases/{case.pk}/alerts/{alert.pk}/resolve/", {f"{prefix}-reason": "Twice."})
    assert again.status_code == 409


def test_who_may_not_resolve_an_alert_gets_no_form_and_the_apis_403(people, web, as_user):
    probation_worker, dcfs = people.probation_case_worker, people.dcfs_supervisor
    case = open_case(probation_worker, people.probation_supervisor, **ANA)
    case_agency_grant(case=case, actor=people.probation_supervisor, agency=dcfs.agency, legal_basis="mdt_18961_7")
    alert = alert_services.safety_alert_create(case=case, actor=probation_worker, kind="safety_risk", summary="Risk.")
    page = _page(web(dcfs), case)
    assert "Risk." in page and f"/alerts/{alert.pk}/resolve/" not in page
    assert 'name="alert-protected_detail"' not in page  # not the lead's case team: no protected detail
    refused = web(dcfs).post(f"/app/cases/{case.pk}/alerts/{alert.pk}/resolve/", {f"resolve{alert.pk}-reason": "x"})
    api = as_user(dcfs).post(f"/api/v1/alerts/{alert.pk}/resolve/", {"reason": "x"}, format="json")
    assert refused.status_code == api.status_code == 403
    # a protected detail sent anyway: the API's 403 too
    sent = web(dcfs).post(
        f"/app/cases/{case.pk}/alerts/",
        {"alert-kind": "other", "alert-summary": "s", "alert-protected_detail": "d"},
    )
    assert sent.status_code == 403
    alert.refresh_from_db()
    assert alert.is_active and SafetyAlert.objects.filter(case=case).count() == 1


# --- who sees the forms ----------------------------------------------------------------------------


def test_a_closed_case_shows_no_part_forms_and_refuses_their_writes(people, web, twins):
    worker, supervisor = people.dcfs_case_worker, people.dcfs_supervisor
    case, _ = twins
    placement = placement_services.placement_create(
        case=case, actor=worker, placement_type="relative", start_date=dt.date(2026, 10, 1)
    )
    alert = alert_services.safety_alert_create(case=case, actor=worker, kind="other", summary="Watch.")
    assert web(supervisor).post(f"/app/cases/{case.pk}/close/", {"close-reason": "Goals met."}).status_code == 302
    assert Case.objects.get(pk=case.pk).status == Case.Status.CLOSED
    page = _page(web(worker), case)
    for gone in ("/placements/", "/services/", "/hearings/", "/alerts/"):
        assert f'action="/app/cases/{case.pk}{gone}' not in page, gone
    assert f'action="/app/cases/{case.pk}/notes/"' in page
    ended = web(worker).post(
        f"/app/cases/{case.pk}/placements/{placement.pk}/end/",
        {f"end{placement.pk}-end_date": "2026-11-01", f"end{placement.pk}-end_reason": "x"},
    )
    added = web(worker).post(f"/app/cases/{case.pk}/alerts/", {"alert-kind": "other", "alert-summary": "s"})
    assert ended.status_code == added.status_code == 409
    assert "closed" in added.content.decode()
    assert SafetyAlert.objects.filter(case=case).count() == 1 and alert.is_active


def test_a_part_of_another_case_answers_404(people, web, twins):
    worker = people.dcfs_case_worker
    case, other = twins
    placement = placement_services.placement_create(
        case=other, actor=worker, placement_type="relative", start_date=dt.date(2026, 10, 1)
    )
    answer = web(worker).post(
        f"/app/cases/{case.pk}/placements/{placement.pk}/end/",
        {f"end{placement.pk}-end_date": "2026-11-01", f"end{placement.pk}-end_reason": "x"},
    )
    assert answer.status_code == 404
    assert web(worker).post(f"/app/cases/{case.pk}/hearings/1/postpone/", {}).status_code == 404


@pytest.mark.parametrize("rows", [1, 3])
def test_the_forms_add_no_query_to_the_case_page_whatever_its_parts(
    people, web, twins, rows, django_assert_num_queries
):
    from tests.web.test_same_reads_as_the_api import PINNED

    worker = people.dcfs_case_worker
    case, _ = twins
    now = timezone.now()
    for i in range(rows):
        placement_services.placement_create(
            case=case, actor=worker, placement_type="relative", start_date=dt.date(2026, 10, 1 + i)
        )
        service_referral_services.service_referral_create(
            case=case, actor=worker, provider=f"P{i}", kind="advocacy", referred_at=now - dt.timedelta(days=1)
        )
        hearing_services.court_hearing_create(
            case=case, actor=worker, starts_at=now - dt.timedelta(hours=i + 1), hearing_type="Review"
        )
        alert = alert_services.safety_alert_create(case=case, actor=worker, kind="other", summary=f"A{i}")
        if i:
            alert_services.safety_alert_resolve(alert=alert, actor=worker, reason="Done.")
    client = web(worker)
    client.get("/app/")  # the session's first reads out of the count
    with django_assert_num_queries(PINNED["case"]):
        answer = client.get(f"/app/cases/{case.pk}/")
    html = answer.content.decode()
    assert html.count("Yes, cancel the hearing") == rows and html.count("Update the status…") == rows
