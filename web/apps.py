from django.apps import AppConfig


class WebConfig(AppConfig):
    """The staff's web app (SPEC §7): server-rendered pages on the services and selectors the
    API uses. It holds no rules of its own."""

    name = "web"
    verbose_name = "Safe Harbor web app"
