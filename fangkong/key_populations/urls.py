from django.urls import URLPattern, URLResolver, path

from fangkong.key_populations import views

app_name = "key_populations"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.board, name="board"),
    path("employers/", views.employer_list, name="employers"),
    path("employers/new/", views.employer_new, name="employer_new"),
    path("employers/<int:employer_id>/", views.employer_page, name="employer"),
    path("employers/<int:employer_id>/import/", views.employer_import, name="import_new"),
    path("employers/<int:employer_id>/accounts/", views.employer_link, name="employer_link"),
    path("employers/<int:employer_id>/export.<str:fmt>", views.employer_export, name="export"),
    path("imports/<int:import_id>/", views.import_page, name="import"),
    path("imports/<int:import_id>/errors.xlsx", views.import_errors, name="import_errors"),
    path("members/", views.member_list, name="members"),
    path("members/<int:member_id>/", views.member_page, name="member"),
    path("members/<int:member_id>/test/", views.member_test, name="member_test"),
    path("members/<int:member_id>/leave/", views.member_leave, name="member_leave"),
]
