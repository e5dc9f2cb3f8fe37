from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.views import SetPasswordView
from ops.metrics import metrics

from . import schema  # noqa: F401  (registers the token scheme with drf-spectacular)
from .health import health, ready

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("audit.urls")),
    path("", include("cases.urls")),
    path("", include("mdt.urls")),
    path("", include("notifications.urls")),
    path("", include("reports.urls")),
]

urlpatterns = [
    path("health/", health, name="health"),
    path("health/ready/", ready, name="health-ready"),
    # Operators only: a bearer token from HARBOR_METRICS_TOKEN, else 404 (ops/metrics.py).
    path("metrics/", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # The staff's web app (SPEC §7): /app/…, and / to its sign-in page or home.
    path("", include("web.urls")),
    # The one-time link of an invitation email: choose a password (Django's token machinery).
    path("accounts/set-password/<uidb64>/<token>/", SetPasswordView.as_view(), name="password_reset_confirm"),
    path("accounts/set-password/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]

handler400 = "config.health.bad_request"
handler403 = "config.health.permission_denied"
handler404 = "config.health.not_found"
handler500 = "config.health.server_error"
