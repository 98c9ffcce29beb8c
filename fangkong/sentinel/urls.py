from django.urls import URLPattern, URLResolver

app_name = "sentinel"
urlpatterns: list[URLPattern | URLResolver] = []
