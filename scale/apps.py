from django.apps import AppConfig


class ScaleConfig(AppConfig):
    name = "scale"
    verbose_name = "Scale (synthetic county- and state-size data for the benchmark)"
