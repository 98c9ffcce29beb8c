from django.apps import AppConfig


class AssignmentsConfig(AppConfig):
    name = "fangkong.assignments"
    label = "assignments"
