from django.urls import URLPattern, URLResolver, path

from fangkong.mass_testing import views

app_name = "mass_testing"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.round_list, name="rounds"),
    path("rounds/<int:round_id>/", views.round_board, name="round"),
    path("rounds/<int:round_id>/refresh/", views.round_refresh, name="round_refresh"),
    path("rounds/<int:round_id>/inbox/", views.round_unsampled_inbox, name="round_inbox"),
    path("rounds/<int:round_id>/sites/", views.site_add, name="site_add"),
    path("rounds/<int:round_id>/grids/<int:grid_id>/", views.unsampled, name="unsampled"),
    path("rounds/<int:round_id>/grids/<int:grid_id>/excuse/", views.excuse, name="excuse"),
    path("rounds/<int:round_id>/sampler/", views.sampler, name="sampler"),
    path("results/", views.results, name="results"),
    path("pools/", views.pool_list, name="pools"),
    path("pools/<int:pool_id>/", views.pool_detail, name="pool"),
    path("retests/<int:retest_id>/", views.retest, name="retest"),
]
