"""The web app's pages (SPEC §7) under /app/, and `/` (to sign-in or home)."""

from django.urls import include, path

from .views import auth, home

app_patterns = [
    path("", home.home, name="home"),
    path("sign-in/", auth.sign_in, name="sign-in"),
    path("sign-out/", auth.sign_out, name="sign-out"),
    path("signed-out/", auth.signed_out, name="signed-out"),
    path("notifications/<int:pk>/read/", home.notification_read, name="notification-read"),
]

urlpatterns = [
    path("", auth.root, name="web-root"),
    path("app/", include((app_patterns, "web"))),
]
