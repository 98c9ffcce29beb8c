"""What the investigator pages share: the write permission, refusals as messages, and the
shape of every write on a case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, Invalid, NotAllowed, NotFound
from fangkong.core.perms import Perm
from fangkong.core.web import request_actor
from fangkong.tracing import selectors
from fangkong.tracing.models import Case


def require_write(request: HttpRequest) -> None:
    if not request_actor(request).can(Perm.TRACING_WRITE):
        raise NotAllowed("permission_denied", "Missing permission tracing.write")


def problem(request: HttpRequest, exc: Invalid | Conflict | NotFound) -> None:
    messages.error(request, exc.message)


Act = Callable[[Actor, Case, dict[str, Any]], "HttpResponse | str | None"]


def case_write(
    request: HttpRequest,
    case_id: int,
    form_class: type[forms.Form],
    invalid: str,
    act: Act,
    *,
    back: str = "tracing:case",
) -> HttpResponse:
    """Every write on a case from its pages: the case in scope, tracing.write, the form, then
    `act` with the form's data. `act` may answer a page itself, or a message to show on `back`;
    a refusal (Invalid, Conflict, NotFound) comes back to `back` as a message."""
    actor = request_actor(request)
    case = selectors.case_get(scope=actor.scope, case_id=case_id)
    require_write(request)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, invalid)
        return redirect(back, case_id=case.pk)
    try:
        done = act(actor, case, form.cleaned_data)
    except (Invalid, Conflict, NotFound) as exc:
        problem(request, exc)
        return redirect(back, case_id=case.pk)
    if isinstance(done, HttpResponse):
        return done
    if done:
        messages.success(request, done)
    return redirect(back, case_id=case.pk)
