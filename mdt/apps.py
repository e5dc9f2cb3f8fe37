from django.apps import AppConfig


class MdtConfig(AppConfig):
    name = "mdt"

    def ready(self) -> None:
        from . import deadline_subjects

        deadline_subjects.register()  # meetings and action items carry deadlines: notifications/
