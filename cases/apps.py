from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the field-key system check
