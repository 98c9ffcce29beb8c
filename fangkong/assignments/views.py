"""Work pages: the inbox (phone-first), an item with its history and actions (htmx), node
boards and overdue lists. Thin adapters over assignments.selectors and .services; NotFound
becomes 404 and NotAllowed 403 once, in `_domain_errors`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from fangkong.assignments import selectors, services
from fangkong.assignments.forms import OutcomeForm, ReasonForm, ReassignForm
from fangkong.assignments.models import Assignment
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.errors import DomainError, NotAllowed, NotFound
from fangkong.core.perms import Perm
from fangkong.core.scope import Scope
from fangkong.core.web import domain_errors as _domain_errors
from fangkong.core.web import request_actor as _actor
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.jurisdictions.selectors import jurisdiction_ancestors, jurisdiction_get


def _node(actor: Actor, code: str) -> Jurisdiction:
    return jurisdiction_get(scope=actor.scope, code=code)


@login_required
@require_GET
@_domain_errors
def inbox(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    mine = request.GET.get("mine") == "1"
    page = selectors.inbox(
        scope=actor.scope,
        user_id=actor.id if mine else None,
        after=request.GET.get("after") or None,
    )
    return render(
        request,
        "assignments/inbox.html",
        {"page": page, "mine": mine, "now": clock.now(), "home": _home(actor)},
    )


def _home(actor: Actor) -> str | None:
    """The code of the actor's first root node, for the board link (paths end in the code)."""
    if not actor.scope.paths or "/" in actor.scope.paths:
        return None
    return actor.scope.paths[0].rstrip("/").rsplit("/", 1)[-1]


def _detail_context(actor: Actor, item: Assignment, **forms_: forms.Form) -> dict[str, Any]:
    can_work = actor.can(Perm.ASSIGNMENT_WORK) and item.is_active
    return {
        "item": item,
        "events": selectors.assignment_events(scope=actor.scope, assignment=item),
        "now": clock.now(),
        "can_work": can_work,
        "can_start": can_work and item.status == "open",
        "can_reassign": actor.can(Perm.ASSIGNMENT_MANAGE) and item.is_active,
        "outcome_form": forms_.get("outcome_form") or OutcomeForm(),
        "reason_form": forms_.get("reason_form") or ReasonForm(),
        "reassign_form": forms_.get("reassign_form") or ReassignForm(),
    }


@login_required
@require_GET
@_domain_errors
def detail(request: HttpRequest, assignment_id: int) -> HttpResponse:
    actor = _actor(request)
    item = selectors.assignment_get(scope=actor.scope, assignment_id=assignment_id)
    return render(request, "assignments/detail.html", _detail_context(actor, item))


def _after_action(
    request: HttpRequest,
    actor: Actor,
    assignment_id: int,
    *,
    error: DomainError | None = None,
    **forms_: forms.Form,
) -> HttpResponse:
    """htmx: the item's panel again (with the error or the form's errors); a plain form: the
    item's page when something is wrong, else back to the item."""
    htmx = bool(request.htmx)  # type: ignore[attr-defined]
    if not htmx and error is None and not forms_:
        return redirect("assignments:detail", assignment_id=assignment_id)
    item = selectors.assignment_get(scope=actor.scope, assignment_id=assignment_id)
    context = _detail_context(actor, item, **forms_)
    context["error"] = error.message if error else ""
    template = "assignments/_panel.html" if htmx else "assignments/detail.html"
    return render(request, template, context, status=error.status if error else 200)


def _action(
    request: HttpRequest,
    assignment_id: int,
    form_class: type[forms.Form] | None,
    form_name: str,
    run: Callable[[Actor, Assignment, dict[str, Any]], object],
) -> HttpResponse:
    actor = _actor(request)
    item = selectors.assignment_get(scope=actor.scope, assignment_id=assignment_id)
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        forms_: dict[str, forms.Form] = {form_name: form}
        return _after_action(request, actor, assignment_id, error=None, **forms_)
    try:
        run(actor, item, form.cleaned_data if form else {})
    except (NotFound, NotAllowed):
        raise
    except DomainError as exc:
        return _after_action(request, actor, assignment_id, error=exc)
    return _after_action(request, actor, assignment_id)


@login_required
@require_POST
@_domain_errors
def start(request: HttpRequest, assignment_id: int) -> HttpResponse:
    return _action(
        request,
        assignment_id,
        None,
        "",
        lambda actor, item, data: services.assignment_start(actor=actor, assignment=item),
    )


@login_required
@require_POST
@_domain_errors
def complete(request: HttpRequest, assignment_id: int) -> HttpResponse:
    return _action(
        request,
        assignment_id,
        OutcomeForm,
        "outcome_form",
        lambda actor, item, data: services.assignment_complete(
            actor=actor, assignment=item, outcome=data["outcome"]
        ),
    )


@login_required
@require_POST
@_domain_errors
def reject(request: HttpRequest, assignment_id: int) -> HttpResponse:
    return _action(
        request,
        assignment_id,
        ReasonForm,
        "reason_form",
        lambda actor, item, data: services.assignment_reject(
            actor=actor, assignment=item, reason=data["reason"]
        ),
    )


@login_required
@require_POST
@_domain_errors
def reassign(request: HttpRequest, assignment_id: int) -> HttpResponse:
    actor = _actor(request)
    item = selectors.assignment_get(scope=actor.scope, assignment_id=assignment_id)
    form = ReassignForm(request.POST)
    if not form.is_valid():
        return _after_action(request, actor, assignment_id, reassign_form=form)
    try:
        # Resolved without the caller's scope: the service checks it (after the permission).
        to = jurisdiction_get(scope=Scope.system(), code=form.cleaned_data["to"])
        new = services.assignment_reassign(
            actor=actor, assignment=item, to=to, reason=form.cleaned_data["reason"]
        )
    except NotFound:
        form.add_error("to", gettext("No such node in your area"))
        return _after_action(request, actor, assignment_id, reassign_form=form)
    except NotAllowed:
        raise
    except DomainError as exc:
        return _after_action(request, actor, assignment_id, error=exc)
    if request.htmx:  # type: ignore[attr-defined]
        response = HttpResponse(status=204)
        response["HX-Redirect"] = f"/assignments/{new.pk}/"
        return response
    return redirect("assignments:detail", assignment_id=new.pk)


@login_required
@require_GET
@_domain_errors
def board(request: HttpRequest, code: str) -> HttpResponse:
    actor = _actor(request)
    node = _node(actor, code)
    return render(
        request,
        "assignments/board.html",
        {
            "board": selectors.board(scope=actor.scope, node=node),
            "ancestors": jurisdiction_ancestors(scope=actor.scope, node=node),
        },
    )


@login_required
@require_GET
@_domain_errors
def overdue(request: HttpRequest, code: str) -> HttpResponse:
    actor = _actor(request)
    node = _node(actor, code)
    now = clock.now()
    page = selectors.overdue_list(
        scope=actor.scope, node=node, after=request.GET.get("after") or None, now=now
    )
    return render(request, "assignments/overdue.html", {"node": node, "page": page, "now": now})
