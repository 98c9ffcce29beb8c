"""Sign-in and sign-out pages."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponse

from fangkong.accounts import services
from fangkong.accounts.middleware import SESSION_SCOPE_VERSION
from fangkong.accounts.models import User
from fangkong.accounts.scoping import client_ip
from fangkong.core.actor import Actor
from fangkong.core.scope import Scope


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        assert isinstance(user, User)
        self.request.session[SESSION_SCOPE_VERSION] = user.scope_version
        actor = Actor(
            kind="user",
            id=user.pk,
            label=user.username,
            role=user.role,
            scope=Scope.empty(),
            ip=client_ip(self.request),
        )
        services.login_record(actor=actor, succeeded=True, username=user.username)
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        username = str(form.data.get("username", ""))
        actor = Actor(
            kind="anonymous",
            id=None,
            label=username[:150] or "-",
            role="",
            scope=Scope.empty(),
            ip=client_ip(self.request),
        )
        services.login_record(actor=actor, succeeded=False, username=username)
        return super().form_invalid(form)
