from django.urls import URLPattern, URLResolver, path

from fangkong.control import views

app_name = "control"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.order_list, name="list"),
    path("export/", views.export, name="export"),
    path("export.<str:fmt>", views.export_file, name="export_file"),
    path("person/<int:person_id>/", views.person_page, name="person"),
    path("person/<int:person_id>/issue/", views.issue, name="issue"),
    path("orders/<int:order_id>/", views.order_detail, name="order"),
    path("orders/<int:order_id>/status/", views.order_status, name="status"),
    path("orders/<int:order_id>/release/", views.order_release, name="release"),
    path("tests/", views.tests_due, name="tests_due"),
    path("tests/<int:test_id>/record/", views.test_record, name="test_record"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:request_id>/decide/", views.decide, name="decide"),
]
