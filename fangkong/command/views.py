"""The command office's landing page. The full dashboard comes with the command module."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fangkong.jurisdictions.selectors import jurisdiction_roots


@login_required
def home(request: HttpRequest) -> HttpResponse:
    roots = jurisdiction_roots(scope=request.actor.scope)  # type: ignore[attr-defined]
    return render(request, "command/home.html", {"roots": roots})
