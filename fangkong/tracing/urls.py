from django.urls import URLPattern, URLResolver, path

from fangkong.tracing.views import cases, clusters, copresence

app_name = "tracing"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", cases.case_list, name="cases"),
    path("cases/<int:case_id>/", cases.case_detail, name="case"),
    path("cases/<int:case_id>/step/", cases.step_complete, name="step"),
    path("cases/<int:case_id>/trajectory/", cases.trajectory_add, name="trajectory_add"),
    path("cases/<int:case_id>/copresence/", copresence.copresence, name="copresence"),
    path(
        "cases/<int:case_id>/copresence/<int:run_id>/",
        copresence.copresence_run,
        name="copresence_run",
    ),
    path("cases/<int:case_id>/contacts/", cases.contacts, name="contacts"),
    path("cases/<int:case_id>/contacts/add/", cases.contact_add, name="contact_add"),
    path("cases/<int:case_id>/contacts/bulk/", cases.contacts_bulk, name="contacts_bulk"),
    path("cases/<int:case_id>/cluster/open/", clusters.cluster_open, name="cluster_open"),
    path("cases/<int:case_id>/cluster/", clusters.cluster_join, name="cluster_join"),
    path("clusters/", clusters.cluster_list, name="clusters"),
    path("clusters/<int:cluster_id>/", clusters.cluster_detail, name="cluster"),
    path("clusters/<int:cluster_id>/close/", clusters.cluster_close, name="cluster_close"),
    path("kpis/", clusters.kpi_board, name="kpis"),
]
