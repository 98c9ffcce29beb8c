from django.apps import AppConfig


class SentinelConfig(AppConfig):
    name = "fangkong.sentinel"
    label = "sentinel"
