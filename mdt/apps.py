from django.apps import AppConfig


class MdtConfig(AppConfig):
    name = "mdt"

    def ready(self) -> None:
        from . import deadline_subjects, receivers

        deadline_subjects.register()  # meetings and action items carry deadlines: notifications/
        receivers.connect()  # case closed / court changed: cases/signals.py
