"""Content-Security-Policy with a per-request nonce: no inline script or style runs unless it
carries the nonce, and nothing loads from another origin.

Templates put `nonce="{{ csp_nonce }}"` on the rare inline <script>/<style> they need (the
context processor below exposes it); style attributes and on* handlers are never allowed, so
markup that an attacker manages to store (a name, an address, a note) cannot run even if some
template forgot to escape it. htmx is configured in base.html not to inject its indicator
<style> and not to evaluate strings.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def policy(nonce: str) -> str:
    """The header value for one response."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


class ContentSecurityPolicyMiddleware:
    """Give each request a fresh nonce and send the policy with every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(18)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = policy(nonce)
        return response


def nonce(request: HttpRequest) -> dict[str, str]:
    """Template context processor: `{{ csp_nonce }}`."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
