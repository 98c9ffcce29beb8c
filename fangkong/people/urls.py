from django.urls import path

from fangkong.people import views

app_name = "people"
urlpatterns = [
    path("", views.search, name="search"),
    path("register/", views.register, name="register"),
    path("export/", views.export, name="export"),
    path("export.<str:fmt>", views.export_file, name="export_file"),
    path("<int:person_id>/", views.detail, name="detail"),
    path("<int:person_id>/reveal/", views.reveal, name="reveal"),
    path("<int:person_id>/merge/", views.merge, name="merge"),
    path("<int:person_id>/notes/", views.note_add, name="note_add"),
]
