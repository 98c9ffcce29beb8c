"""Attach `request.actor` (Actor or None) once per request, from the session user."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from fangkong.accounts.scoping import actor_for_user, client_ip

SESSION_SCOPE_VERSION = "fangkong_scope_version"


class ActorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = None  # type: ignore[attr-defined]
        user = request.user
        if user.is_authenticated:
            # A deactivated or moved account ends its sessions on the next request.
            if request.session.get(SESSION_SCOPE_VERSION) != user.scope_version:
                logout(request)
            else:
                request.actor = actor_for_user(user, ip=client_ip(request))  # type: ignore[attr-defined]
        return self.get_response(request)
