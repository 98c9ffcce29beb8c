"""The page side's one mapping of domain errors, and small helpers every app's views share.

The API maps errors in fangkong/api.py; pages map them here: NotFound (also "not yours")
becomes a 404, NotAllowed a 403. Invalid and Conflict are shown on the form by the view.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

from fangkong.core.actor import Actor
from fangkong.core.errors import DomainError, NotAllowed, NotFound

View = Callable[..., HttpResponseBase]  # pages and file downloads (streaming)


def domain_errors(view: View) -> View:
    """Turn NotFound into 404 and NotAllowed into 403 for a page view."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc

    return wrapper


def request_actor(request: HttpRequest) -> Actor:
    """The Actor the middleware built for this request (login_required runs first)."""
    actor: Actor | None = getattr(request, "actor", None)
    if actor is None:  # only a misconfigured middleware stack gets here
        raise PermissionDenied("no actor")
    return actor


def form_error(form: forms.Form, exc: DomainError) -> None:
    """Show a domain error on the field it names, or on the form as a whole."""
    field = exc.detail.get("field")
    form.add_error(field if field in form.fields else None, exc.message)


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"
