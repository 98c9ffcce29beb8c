from django.urls import path

from fangkong.assignments import views

app_name = "assignments"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:assignment_id>/", views.detail, name="detail"),
    path("<int:assignment_id>/start/", views.start, name="start"),
    path("<int:assignment_id>/complete/", views.complete, name="complete"),
    path("<int:assignment_id>/reject/", views.reject, name="reject"),
    path("<int:assignment_id>/reassign/", views.reassign, name="reassign"),
    path("board/<str:code>/", views.board, name="board"),
    path("board/<str:code>/overdue/", views.overdue, name="overdue"),
]
