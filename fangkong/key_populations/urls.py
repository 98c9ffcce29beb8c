from django.urls import URLPattern, URLResolver

app_name = "key_populations"
urlpatterns: list[URLPattern | URLResolver] = []
