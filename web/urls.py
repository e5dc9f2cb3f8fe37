"""The web app's pages (SPEC §7) under /app/, and `/` (to sign-in or home)."""

from django.urls import include, path

from .views import auth, case_parts, cases, home, mdt, mdt_agenda, mdt_session, referrals, reports, setup

app_patterns = [
    path("", home.home, name="home"),
    path("sign-in/", auth.sign_in, name="sign-in"),
    path("sign-out/", auth.sign_out, name="sign-out"),
    path("signed-out/", auth.signed_out, name="signed-out"),
    path("setup/", setup.setup, name="setup"),
    path("setup/mfa/", setup.mfa_enrol, name="setup-mfa"),
    path("preferences/", setup.preferences, name="preferences"),
    path("notifications/<int:pk>/read/", home.notification_read, name="notification-read"),
    path("referrals/new/", referrals.referral_new, name="referral-new"),
    path("referrals/duplicates/", referrals.duplicate_check, name="referral-duplicates"),
    path("referrals/<int:pk>/", referrals.referral_detail, name="referral"),
    path("referrals/<int:pk>/screen/", referrals.referral_screen, name="referral-screen"),
    path("referrals/<int:pk>/<slug:decision>/", referrals.referral_decide, name="referral-decide"),
    path("cases/", cases.case_find, name="case-find"),
    path("cases/<int:pk>/", cases.case_detail, name="case"),
    path("cases/<int:pk>/notes/", cases.note_add, name="case-note-add"),
    path("cases/<int:pk>/missing-episodes/", cases.episode_add, name="case-episode-add"),
    path("cases/<int:pk>/missing-episodes/<int:episode_id>/return/", cases.episode_return, name="case-episode-return"),
    path("cases/<int:pk>/agencies/", cases.agency_grant, name="case-agency-grant"),
    path("cases/<int:pk>/agencies/<slug:code>/renew/", cases.agency_renew, name="case-agency-renew"),
    path("cases/<int:pk>/agencies/<slug:code>/revoke/", cases.agency_revoke, name="case-agency-revoke"),
    path(
        "cases/<int:pk>/share-requests/<int:request_id>/<slug:decision>/",
        cases.share_request_decide,
        name="case-share-request",
    ),
    path("cases/<int:pk>/team/", cases.team_add, name="case-team-add"),
    # placements, services, hearings and safety alerts (issue 15)
    path("cases/<int:pk>/placements/", case_parts.placement_add, name="case-placement-add"),
    path("cases/<int:pk>/placements/<int:placement_id>/end/", case_parts.placement_end, name="case-placement-end"),
    path("cases/<int:pk>/services/", case_parts.service_add, name="case-service-add"),
    path("cases/<int:pk>/services/<int:service_id>/status/", case_parts.service_status, name="case-service-status"),
    path("cases/<int:pk>/hearings/", case_parts.hearing_add, name="case-hearing-add"),
    path(
        "cases/<int:pk>/hearings/<int:hearing_id>/<slug:change>/",
        case_parts.hearing_change,
        name="case-hearing-change",
    ),
    path("cases/<int:pk>/alerts/", case_parts.alert_add, name="case-alert-add"),
    path("cases/<int:pk>/alerts/<int:alert_id>/resolve/", case_parts.alert_resolve, name="case-alert-resolve"),
    path("cases/<int:pk>/close/", cases.case_close, name="case-close"),
    path("cases/<int:pk>/reopen/", cases.case_reopen, name="case-reopen"),
    # the MDT meeting workspace (issue 16)
    path("mdt/", mdt.my_mdt, name="mdt"),
    path("mdt/teams/<int:pk>/schedule/", mdt.schedule, name="mdt-schedule"),
    path("mdt/meetings/<int:pk>/", mdt.meeting_detail, name="mdt-meeting"),
    path("mdt/meetings/<int:pk>/agenda.pdf", mdt.agenda_pdf, name="mdt-agenda-pdf"),
    path("mdt/meetings/<int:pk>/calendar.ics", mdt.meeting_ics, name="mdt-meeting-ics"),
    path("mdt/meetings/<int:pk>/agenda/", mdt_agenda.builder, name="mdt-builder"),
    path("mdt/meetings/<int:pk>/items/", mdt_agenda.item_add, name="mdt-item-add"),
    path("mdt/meetings/<int:pk>/items/reorder/", mdt_agenda.items_reorder, name="mdt-items-reorder"),
    path(
        "mdt/meetings/<int:pk>/items/<int:item_id>/move/<slug:direction>/",
        mdt_agenda.item_move,
        name="mdt-item-move",
    ),
    path("mdt/meetings/<int:pk>/items/<int:item_id>/remove/", mdt_agenda.item_remove, name="mdt-item-remove"),
    path("mdt/meetings/<int:pk>/publish/", mdt_agenda.publish, name="mdt-publish"),
    path("mdt/meetings/<int:pk>/session/", mdt_session.session, name="mdt-session"),
    path("mdt/meetings/<int:pk>/attendance/", mdt_session.attendance, name="mdt-attendance"),
    path("mdt/meetings/<int:pk>/items/<int:item_id>/review/", mdt_session.review, name="mdt-review"),
    path("mdt/meetings/<int:pk>/items/<int:item_id>/action-items/", mdt_session.action_add, name="mdt-action-add"),
    path("mdt/meetings/<int:pk>/minutes/", mdt_session.minutes, name="mdt-minutes"),
    path("mdt/action-items/", mdt_session.my_action_items, name="mdt-action-items"),
    path("mdt/action-items/<int:pk>/<slug:decision>/", mdt_session.action_close, name="mdt-action-close"),
    path("mdt/calendar/", mdt_session.calendar, name="mdt-calendar"),
    # reports (issue 17)
    path("reports/", reports.report_list, name="reports"),
    path("reports/caseload.csv", reports.caseload_csv, name="report-caseload-csv"),
    path("reports/<slug:name>/", reports.report_detail, name="report"),
    path("reports/<slug:name>/csv/", reports.report_csv, name="report-csv"),
]

urlpatterns = [
    path("", auth.root, name="web-root"),
    path("app/", include((app_patterns, "web"))),
]
