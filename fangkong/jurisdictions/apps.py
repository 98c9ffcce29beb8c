from django.apps import AppConfig


class JurisdictionsConfig(AppConfig):
    name = "fangkong.jurisdictions"
    label = "jurisdictions"
