from django.urls import path

from . import apis

urlpatterns = [
    path("auth/token/", apis.TokenCreateApi.as_view(), name="auth-token"),
    path("auth/logout/", apis.LogoutApi.as_view(), name="auth-logout"),
    path("auth/password-reset/", apis.PasswordResetApi.as_view(), name="auth-password-reset"),
    path("me/", apis.MeApi.as_view(), name="me"),
    path("me/mfa/totp/", apis.MfaTotpBeginApi.as_view(), name="mfa-totp-begin"),
    path("me/mfa/totp/confirm/", apis.MfaTotpConfirmApi.as_view(), name="mfa-totp-confirm"),
    path("agencies/", apis.AgencyListApi.as_view(), name="agency-list"),
    path("users/", apis.UserListCreateApi.as_view(), name="user-list"),
    path("users/<int:pk>/", apis.UserDetailApi.as_view(), name="user-detail"),
    path("users/<int:pk>/deactivate/", apis.UserDeactivateApi.as_view(), name="user-deactivate"),
    path("users/<int:pk>/send-password-link/", apis.UserSendPasswordLinkApi.as_view(), name="user-send-password-link"),
    path("users/<int:pk>/reset-mfa/", apis.UserMfaResetApi.as_view(), name="user-reset-mfa"),
]
