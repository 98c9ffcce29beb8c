from django.contrib.auth import views as auth_views
from django.urls import path

from fangkong.accounts.views import LoginView, totp_step

app_name = "accounts"
urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("totp/", totp_step, name="totp"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
