from django.apps import AppConfig


class MaintenanceConfig(AppConfig):
    name = "fangkong.maintenance"
    label = "maintenance"
