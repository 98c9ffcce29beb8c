from django.urls import path

from fangkong.jurisdictions import views

app_name = "jurisdictions"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/children/", views.children, name="children"),
]
