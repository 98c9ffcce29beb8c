from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "fangkong.policy"
    label = "policy"
