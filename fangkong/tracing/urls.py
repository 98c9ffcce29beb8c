from django.urls import URLPattern, URLResolver

app_name = "tracing"
urlpatterns: list[URLPattern | URLResolver] = []
