from django.urls import path

from fangkong.places import views

app_name = "places"
urlpatterns = [
    path("", views.place_list_page, name="list"),
    path("new/", views.place_create_page, name="create"),
    path("<int:place_id>/", views.place_detail, name="detail"),
    path("<int:place_id>/rooms/", views.room_add_page, name="room_add"),
]
