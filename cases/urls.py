from django.urls import URLPattern, URLResolver, path

from . import apis, apis_sharing

urlpatterns: list[URLPattern | URLResolver] = [
    # youth
    path("youth/", apis.YouthListCreateApi.as_view(), name="youth-list"),
    path("youth/matches/", apis.YouthMatchesApi.as_view(), name="youth-matches"),
    path("youth/<int:pk>/", apis.YouthDetailApi.as_view(), name="youth-detail"),
    path("youth/<int:pk>/merge/", apis.YouthMergeApi.as_view(), name="youth-merge"),
    path("youth/<int:pk>/unmerge/", apis.YouthUnmergeApi.as_view(), name="youth-unmerge"),
    # referrals
    path("referrals/", apis.ReferralListCreateApi.as_view(), name="referral-list"),
    path("referrals/<int:pk>/", apis.ReferralDetailApi.as_view(), name="referral-detail"),
    path("referrals/<int:pk>/screen/", apis.ReferralScreenApi.as_view(), name="referral-screen"),
    path("referrals/<int:pk>/accept/", apis.ReferralAcceptApi.as_view(), name="referral-accept"),
    path("referrals/<int:pk>/decline/", apis.ReferralDeclineApi.as_view(), name="referral-decline"),
    path("referrals/<int:pk>/mark-duplicate/", apis.ReferralMarkDuplicateApi.as_view(), name="referral-mark-duplicate"),
    # cases
    path("cases/", apis.CaseListApi.as_view(), name="case-list"),
    path("cases/<int:pk>/", apis.CaseDetailApi.as_view(), name="case-detail"),
    path("cases/<int:pk>/close/", apis.CaseCloseApi.as_view(), name="case-close"),
    path("cases/<int:pk>/team/", apis.CaseTeamApi.as_view(), name="case-team"),
    path("cases/<int:pk>/team/<int:member_id>/", apis.CaseTeamMemberApi.as_view(), name="case-team-member"),
    path("cases/<int:pk>/agencies/", apis.CaseAgenciesApi.as_view(), name="case-agencies"),
    path(
        "cases/<int:pk>/agencies/<str:agency_code>/renew/", apis.CaseAgencyRenewApi.as_view(), name="case-agency-renew"
    ),
    path(
        "cases/<int:pk>/agencies/<str:agency_code>/revoke/",
        apis.CaseAgencyRevokeApi.as_view(),
        name="case-agency-revoke",
    ),
    # share requests (SPEC §1 "Sharing has one door")
    path("share-requests/", apis_sharing.ShareRequestListApi.as_view(), name="share-request-list"),
    path(
        "share-requests/<int:pk>/approve/",
        apis_sharing.ShareRequestApproveApi.as_view(),
        name="share-request-approve",
    ),
    path(
        "share-requests/<int:pk>/decline/",
        apis_sharing.ShareRequestDeclineApi.as_view(),
        name="share-request-decline",
    ),
    path("cases/<int:pk>/notes/", apis.CaseNotesApi.as_view(), name="case-notes"),
    path("cases/<int:pk>/notes/<int:note_id>/", apis.CaseNoteDetailApi.as_view(), name="case-note-detail"),
    path("cases/<int:pk>/missing-episodes/", apis.CaseMissingEpisodesApi.as_view(), name="case-missing-episodes"),
    path("missing-episodes/<int:pk>/", apis.MissingEpisodeDetailApi.as_view(), name="missing-episode-detail"),
    path("cases/<int:pk>/placements/", apis.CasePlacementsApi.as_view(), name="case-placements"),
    path("cases/<int:pk>/services/", apis.CaseServicesApi.as_view(), name="case-services"),
    path("cases/<int:pk>/hearings/", apis.CaseHearingsApi.as_view(), name="case-hearings"),
    path("cases/<int:pk>/alerts/", apis.CaseAlertsApi.as_view(), name="case-alerts"),
    path("cases/<int:pk>/timeline/", apis.CaseTimelineApi.as_view(), name="case-timeline"),
    path("cases/<int:pk>/history/", apis.CaseHistoryApi.as_view(), name="case-history"),
]
