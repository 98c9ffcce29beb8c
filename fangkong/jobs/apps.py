from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "fangkong.jobs"
    label = "jobs"
