from django.urls import URLPattern, URLResolver, path

from fangkong.notifications import views

app_name = "notifications"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.notification_page, name="list"),
    path("read/", views.mark_read, name="read"),
    path("badge/", views.badge, name="badge"),
    path("<int:notification_id>/open/", views.notification_open, name="open"),
]
