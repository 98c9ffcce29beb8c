from django.apps import AppConfig


class LakeConfig(AppConfig):
    name = "fangkong.lake"
    label = "lake"
