"""Attach `request.actor` (Actor or None) once per request, from the session user.

This is the one place that decides whether a session may act: an Actor exists only for a
session that is signed in under the account's current scope version *and* has passed the
second factor (TOTP or a backup code). A session that has only the password gets no Actor, so
no selector or service can run for it, and its page requests go to the TOTP step; the API
answers it 401 like an anonymous caller. API tokens (machine clients) are not sessions and are
not affected.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse

from fangkong.accounts.scoping import actor_for_user, client_ip

SESSION_SCOPE_VERSION = "fangkong_scope_version"
SESSION_TOTP_VERIFIED = "fangkong_totp_verified"

# Where a session without the second factor may go: the sign-in steps and the language switch.
# The API is listed because it answers for itself (401 without an Actor) instead of redirecting.
_UNVERIFIED_VIEWS = frozenset(
    {"accounts:login", "accounts:logout", "accounts:totp", "set_language"}
)


def session_mark_verified(request: HttpRequest) -> None:
    """Record that this session passed the second factor (a new session key against fixation)."""
    request.session.cycle_key()
    request.session[SESSION_TOTP_VERIFIED] = True


def _allowed_unverified(request: HttpRequest) -> bool:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return True  # a 404 reveals nothing
    return match.view_name in _UNVERIFIED_VIEWS or match.namespace == "api"


def _to_totp_step(request: HttpRequest) -> HttpResponse:
    url = reverse("accounts:totp") + "?" + urlencode({"next": request.get_full_path()})
    if request.headers.get("HX-Request"):
        # An htmx fragment request: have the browser load the whole page instead.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


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
            elif request.session.get(SESSION_TOTP_VERIFIED) is not True:
                if not _allowed_unverified(request):
                    return _to_totp_step(request)
            else:
                request.actor = actor_for_user(user, ip=client_ip(request))  # type: ignore[attr-defined]
        return self.get_response(request)
