"""The Content-Security-Policy: one nonce per request, no unsafe-inline or unsafe-eval, and
templates that need neither."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from fangkong.accounts.models import User
from fangkong.core.csp import HEADER, policy

TEMPLATE_ROOT = Path(settings.BASE_DIR)


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def test_policy_allows_only_the_own_origin_and_the_nonce() -> None:
    d = _directives(policy("abc"))
    assert d["default-src"] == ["'self'"]
    assert d["script-src"] == ["'self'", "'nonce-abc'"]
    assert d["style-src"] == ["'self'", "'nonce-abc'"]
    assert d["img-src"] == ["'self'", "data:"]
    assert d["object-src"] == ["'none'"]
    assert d["base-uri"] == ["'self'"]
    assert d["frame-ancestors"] == ["'none'"]
    assert d["form-action"] == ["'self'"]
    assert "unsafe" not in policy("abc")


@pytest.mark.django_db
def test_every_response_carries_a_fresh_nonce(client: Client) -> None:
    first = client.get(reverse("accounts:login"))
    second = client.get(reverse("accounts:login"))
    nonces = [re.search(r"'nonce-([^']+)'", r[HEADER]) for r in (first, second)]
    assert all(nonces)
    assert nonces[0]
    assert nonces[1]
    assert nonces[0].group(1) != nonces[1].group(1)
    assert len(nonces[0].group(1)) >= 22
    api = client.get("/api/me")
    assert api.status_code == 401
    assert HEADER in api


@pytest.mark.django_db
def test_pages_configure_htmx_without_inline_styles_or_eval(
    login: Callable[[User], Client], personas: dict[str, User]
) -> None:
    body = login(personas["district_officer"]).get(reverse("command:home")).content.decode()
    assert '"includeIndicatorStyles": false' in body
    assert '"allowEval": false' in body


@pytest.mark.django_db
def test_api_docs_load_swagger_from_this_server(
    login: Callable[[User], Client], personas: dict[str, User]
) -> None:
    body = login(personas["district_officer"]).get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in body
    assert "cdn." not in body
    assert "https://" not in body


def _templates() -> list[Path]:
    return sorted(TEMPLATE_ROOT.glob("**/templates/**/*.html"))


def test_templates_have_no_inline_script_style_or_handler() -> None:
    """Inline code would need 'unsafe-inline'; put it in static/js or static/css instead."""
    offenders = []
    for path in _templates():
        text = path.read_text()
        for pattern in (
            r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>",
            r"<style\b",
            r"\sstyle=",
            r"\son[a-z]+=",
            r"\shx-on[:-]",
            r"javascript:",
        ):
            for match in re.finditer(pattern, text, flags=re.IGNORECASE):
                offenders.append(f"{path.relative_to(TEMPLATE_ROOT)}: {match.group(0)!r}")
    assert _templates(), "no templates found"
    assert offenders == []


def test_templates_load_nothing_from_another_origin() -> None:
    offenders = [
        str(p.relative_to(TEMPLATE_ROOT))
        for p in _templates()
        if re.search(r"(src|href)=\"(https?:)?//", p.read_text())
    ]
    assert offenders == []
