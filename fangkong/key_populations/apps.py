from django.apps import AppConfig


class KeyPopulationsConfig(AppConfig):
    name = "fangkong.key_populations"
    label = "key_populations"
