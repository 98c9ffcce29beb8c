from django.apps import AppConfig


class MassTestingConfig(AppConfig):
    name = "fangkong.mass_testing"
    label = "mass_testing"
