from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the field-key system check
        from .deadline_subjects import register as register_deadline_subjects

        register_deadline_subjects()  # referrals, missing episodes, participations: notifications/
