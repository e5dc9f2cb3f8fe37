from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = "Agency access"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401  (session checks; axes and login signals -> audit)


class HarborAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "accounts.admin_site.HarborAdminSite"
