from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "fangkong.notifications"
    label = "notifications"
