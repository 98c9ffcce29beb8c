from django.urls import URLPattern, URLResolver, path

from fangkong.tracing import views, views_copresence

app_name = "tracing"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.case_list, name="cases"),
    path("cases/<int:case_id>/", views.case_detail, name="case"),
    path("cases/<int:case_id>/step/", views.step_complete, name="step"),
    path("cases/<int:case_id>/trajectory/", views.trajectory_add, name="trajectory_add"),
    path("cases/<int:case_id>/copresence/", views_copresence.copresence, name="copresence"),
    path(
        "cases/<int:case_id>/copresence/<int:run_id>/",
        views_copresence.copresence_run,
        name="copresence_run",
    ),
    path("cases/<int:case_id>/contacts/", views.contacts, name="contacts"),
    path("cases/<int:case_id>/contacts/add/", views.contact_add, name="contact_add"),
    path("cases/<int:case_id>/contacts/bulk/", views.contacts_bulk, name="contacts_bulk"),
    path("cases/<int:case_id>/cluster/open/", views.cluster_open, name="cluster_open"),
    path("cases/<int:case_id>/cluster/", views.cluster_join, name="cluster_join"),
    path("clusters/", views.cluster_list, name="clusters"),
    path("clusters/<int:cluster_id>/", views.cluster_detail, name="cluster"),
    path("clusters/<int:cluster_id>/close/", views.cluster_close, name="cluster_close"),
    path("kpis/", views.kpi_board, name="kpis"),
]
