from django.urls import URLPattern, URLResolver, path

from fangkong.sentinel import alert_views, views

app_name = "sentinel"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("units/", views.unit_list, name="units"),
    path("units/new/", views.unit_new, name="unit_new"),
    path("units/<int:unit_id>/", views.unit_detail, name="unit"),
    path("units/<int:unit_id>/operators/", views.unit_operator, name="unit_operator"),
    path("units/<int:unit_id>/tokens/", views.unit_token, name="unit_token"),
    path("units/<int:unit_id>/counter/", views.counter, name="counter"),
    path("units/<int:unit_id>/zero/", views.zero_report, name="zero_report"),
    path("units/<int:unit_id>/upload/", views.upload, name="upload"),
    path("records/", views.records, name="records"),
    path("missing/", views.missing, name="missing"),
    path("alerts/", alert_views.alert_list, name="alerts"),
    path("alerts/<int:alert_id>/", alert_views.alert_detail, name="alert"),
    path("alerts/<int:alert_id>/close/", alert_views.alert_close, name="alert_close"),
]
