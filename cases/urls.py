from django.urls import URLPattern, URLResolver, path

from .apis import cases, duplicates, indicator_codes, parts, referrals, sharing, youth

urlpatterns: list[URLPattern | URLResolver] = [
    # youth
    path("youth/", youth.YouthListCreateApi.as_view(), name="youth-list"),
    path("youth/matches/", duplicates.YouthMatchesApi.as_view(), name="youth-matches"),
    path("youth/<int:pk>/", youth.YouthDetailApi.as_view(), name="youth-detail"),
    path("youth/<int:pk>/merge/", youth.YouthMergeApi.as_view(), name="youth-merge"),
    path("youth/<int:pk>/unmerge/", youth.YouthUnmergeApi.as_view(), name="youth-unmerge"),
    # reference data (SPEC §2 indicator codes)
    path("indicator-codes/", indicator_codes.IndicatorCodeListApi.as_view(), name="indicator-code-list"),
    # referrals
    path("referrals/", referrals.ReferralListCreateApi.as_view(), name="referral-list"),
    path("referrals/<int:pk>/", referrals.ReferralDetailApi.as_view(), name="referral-detail"),
    path("referrals/<int:pk>/screen/", referrals.ReferralScreenApi.as_view(), name="referral-screen"),
    path("referrals/<int:pk>/accept/", referrals.ReferralAcceptApi.as_view(), name="referral-accept"),
    path("referrals/<int:pk>/decline/", referrals.ReferralDeclineApi.as_view(), name="referral-decline"),
    path(
        "referrals/<int:pk>/mark-duplicate/",
        referrals.ReferralMarkDuplicateApi.as_view(),
        name="referral-mark-duplicate",
    ),
    # cases
    path("cases/", cases.CaseListApi.as_view(), name="case-list"),
    path("cases/<int:pk>/", cases.CaseDetailApi.as_view(), name="case-detail"),
    path("cases/<int:pk>/close/", cases.CaseCloseApi.as_view(), name="case-close"),
    path("cases/<int:pk>/reopen/", cases.CaseReopenApi.as_view(), name="case-reopen"),
    path("cases/<int:pk>/team/", cases.CaseTeamApi.as_view(), name="case-team"),
    path("cases/<int:pk>/team/<int:member_id>/", cases.CaseTeamMemberApi.as_view(), name="case-team-member"),
    path("cases/<int:pk>/agencies/", sharing.CaseAgenciesApi.as_view(), name="case-agencies"),
    path(
        "cases/<int:pk>/agencies/<str:agency_code>/renew/",
        sharing.CaseAgencyRenewApi.as_view(),
        name="case-agency-renew",
    ),
    path(
        "cases/<int:pk>/agencies/<str:agency_code>/revoke/",
        sharing.CaseAgencyRevokeApi.as_view(),
        name="case-agency-revoke",
    ),
    # share requests (SPEC §1 "Sharing has one door")
    path("share-requests/", sharing.ShareRequestListApi.as_view(), name="share-request-list"),
    path(
        "share-requests/<int:pk>/approve/",
        sharing.ShareRequestApproveApi.as_view(),
        name="share-request-approve",
    ),
    path(
        "share-requests/<int:pk>/decline/",
        sharing.ShareRequestDeclineApi.as_view(),
        name="share-request-decline",
    ),
    path("cases/<int:pk>/notes/", parts.CaseNotesApi.as_view(), name="case-notes"),
    path("cases/<int:pk>/notes/<int:note_id>/", parts.CaseNoteDetailApi.as_view(), name="case-note-detail"),
    path("cases/<int:pk>/missing-episodes/", parts.CaseMissingEpisodesApi.as_view(), name="case-missing-episodes"),
    path("missing-episodes/<int:pk>/", parts.MissingEpisodeDetailApi.as_view(), name="missing-episode-detail"),
    path("cases/<int:pk>/placements/", parts.CasePlacementsApi.as_view(), name="case-placements"),
    path("cases/<int:pk>/services/", parts.CaseServicesApi.as_view(), name="case-services"),
    path("cases/<int:pk>/hearings/", parts.CaseHearingsApi.as_view(), name="case-hearings"),
    path("cases/<int:pk>/alerts/", parts.CaseAlertsApi.as_view(), name="case-alerts"),
    path("placements/<int:pk>/", parts.PlacementDetailApi.as_view(), name="placement-detail"),
    path("services/<int:pk>/", parts.ServiceReferralDetailApi.as_view(), name="service-detail"),
    path("hearings/<int:pk>/", parts.CourtHearingDetailApi.as_view(), name="hearing-detail"),
    path("alerts/<int:pk>/", parts.SafetyAlertDetailApi.as_view(), name="alert-detail"),
    path("alerts/<int:pk>/resolve/", parts.SafetyAlertResolveApi.as_view(), name="alert-resolve"),
    path("cases/<int:pk>/timeline/", cases.CaseTimelineApi.as_view(), name="case-timeline"),
    path("cases/<int:pk>/history/", cases.CaseHistoryApi.as_view(), name="case-history"),
]
