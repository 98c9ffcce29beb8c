from django.apps import AppConfig


class ControlConfig(AppConfig):
    name = "fangkong.control"
    label = "control"
