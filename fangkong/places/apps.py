from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "fangkong.places"
    label = "places"
