from django.urls import URLPattern, URLResolver

app_name = "mass_testing"
urlpatterns: list[URLPattern | URLResolver] = []
