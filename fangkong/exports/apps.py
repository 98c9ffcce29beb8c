from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "fangkong.exports"
    label = "exports"
