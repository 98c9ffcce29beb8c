"""Sign-in and sign-out pages: the password step, then the TOTP step (enrolment or code)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from fangkong.accounts import services, throttle, totp, twofactor
from fangkong.accounts.forms import LOCKED_MESSAGE, CodeForm, SignInForm
from fangkong.accounts.middleware import (
    SESSION_SCOPE_VERSION,
    SESSION_TOTP_VERIFIED,
    session_mark_verified,
)
from fangkong.accounts.models import User
from fangkong.accounts.scoping import client_ip
from fangkong.core.errors import Invalid


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        # The password is only the first step: the session gets no Actor until the TOTP step.
        target = super().get_success_url()
        return reverse("accounts:totp") + "?" + urlencode({"next": target})

    def form_valid(self, form: SignInForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_valid(form)
        user = form.get_user()
        assert isinstance(user, User)
        self.request.session[SESSION_SCOPE_VERSION] = user.scope_version
        actor = throttle.attempt_actor(
            username=user.username, ip=client_ip(self.request), user=user
        )
        services.login_record(actor=actor, succeeded=True, username=user.username)
        return response

    def form_invalid(self, form: SignInForm) -> HttpResponse:  # type: ignore[override]
        username = str(form.data.get("username", ""))
        actor = throttle.attempt_actor(username=username, ip=client_ip(self.request))
        if form.locked:
            throttle.login_refused_record(actor=actor, username=username)
        else:
            throttle.login_failure_record(actor=actor, username=username)
        return super().form_invalid(form)


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@require_http_methods(["GET", "POST"])
def totp_step(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator (first sign-in) or type its code; then the session may act."""
    user = request.user
    if not isinstance(user, User):
        return redirect("accounts:login")
    next_url = _next_url(request)
    if request.session.get(SESSION_TOTP_VERIFIED) is True:
        return redirect(next_url)
    ip = client_ip(request)
    actor = throttle.attempt_actor(username=user.username, ip=ip, user=user)
    enrolled = twofactor.is_enrolled(user)
    device = None if enrolled else twofactor.totp_enrol_begin(actor=actor, user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        if throttle.login_locked(username=user.username, ip=ip):
            throttle.login_refused_record(actor=actor, username=user.username)
            form.add_error("code", ValidationError(LOCKED_MESSAGE, code="locked"))
        else:
            backup_codes: list[str] = []
            try:
                if not enrolled:
                    backup_codes = twofactor.totp_enrol_confirm(actor=actor, user=user, code=code)
                elif totp.looks_like_totp(code):
                    twofactor.totp_verify(actor=actor, user=user, code=code)
                else:
                    twofactor.backup_code_use(actor=actor, user=user, code=code)
            except Invalid:
                stage = "totp" if totp.looks_like_totp(code) else "backup_code"
                throttle.login_failure_record(actor=actor, username=user.username, stage=stage)
                form.add_error(
                    "code",
                    ValidationError(_("The code is wrong or was already used."), code="wrong_code"),
                )
            else:
                throttle.login_throttle_clear(username=user.username)
                session_mark_verified(request)
                if backup_codes:
                    # Shown here once; only their hashes are stored.
                    shown = {"codes": backup_codes, "next": next_url}
                    return render(request, "accounts/backup_codes.html", shown)
                return redirect(next_url)
    context: dict[str, Any] = {"form": form, "next": next_url}
    if device is not None:
        context |= {
            "secret": _grouped(device.secret),
            "uri": totp.provisioning_uri(device.secret, account=user.username),
        }
        return render(request, "accounts/totp_enrol.html", context)
    return render(request, "accounts/totp_verify.html", context)
