from django.apps import AppConfig


class TracingConfig(AppConfig):
    name = "fangkong.tracing"
    label = "tracing"
