"""The board, arrival lists (the grid worker's inbox on a phone), an arrival with its
verification form, placing from the queue, canvass registration, the export."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.core.masking import mask_document, mask_name, mask_phone
from fangkong.core.perms import Perm
from fangkong.core.web import domain_errors, form_error, request_actor
from fangkong.exports.http import export_page, export_view
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.jurisdictions.selectors import jurisdiction_get
from fangkong.policy.labels import CATEGORY_LABELS, label
from fangkong.screening import selectors, services
from fangkong.screening.exports import arrival_columns, arrival_rows
from fangkong.screening.forms import CanvassForm, ListForm, PlaceForm, VerifyForm
from fangkong.screening.labels import KEY_LABELS
from fangkong.screening.models import Arrival
from fangkong.screening.services._common import home_node


def _node(request: HttpRequest, code: str | None) -> Jurisdiction:
    actor = request_actor(request)
    return jurisdiction_get(scope=actor.scope, code=code) if code else home_node(actor)


def _list_args(request: HttpRequest) -> dict[str, Any]:
    form = ListForm(request.GET)
    return form.cleaned_data if form.is_valid() else {}


@login_required
@require_GET
@domain_errors
def board(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    node = _node(request, _list_args(request).get("node"))
    b = selectors.board(scope=actor.scope, node=node)
    keys = [(k, KEY_LABELS[k]) for k in b.keys]
    figures = [(k, lab, b.figures[k]) for k, lab in keys]
    children = [(c.node, [(k, lab, c.figures[k]) for k, lab in keys]) for c in b.children]
    return render(
        request,
        "screening/board.html",
        {"board": b, "keys": keys, "figures": figures, "children": children},
    )


@login_required
@require_GET
@domain_errors
def arrivals(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    args = _list_args(request)
    node = _node(request, args.get("node")) if args.get("node") else None
    key = args.get("key") or "received"
    page = selectors.arrival_list(scope=actor.scope, node=node, key=key, after=args.get("after"))
    query = request.GET.copy()
    if page.next_after:
        query["after"] = page.next_after
    return render(
        request,
        "screening/arrivals.html",
        {
            "page": page,
            "rows": [_row(a) for a in page.items],
            "key": key,
            "key_label": KEY_LABELS.get(key, key),
            "node": node,
            "next_query": query.urlencode() if page.next_after else "",
            "export_query": request.GET.urlencode(),
        },
    )


@login_required
@require_GET
@domain_errors
def inbox(request: HttpRequest) -> HttpResponse:
    """The grid worker's open arrivals, on a phone."""
    actor = request_actor(request)
    page = selectors.arrival_list(
        scope=actor.scope, key="open", after=_list_args(request).get("after")
    )
    return render(
        request,
        "screening/inbox.html",
        {"rows": [_row(a) for a in page.items], "next_after": page.next_after},
    )


def _row(a: Arrival) -> dict[str, Any]:
    return {
        "arrival": a,
        "name": mask_name(a.name),
        "doc": mask_document(a.doc_number),
        "phone": mask_phone(a.phone) if a.phone else "",
        "category": label(CATEGORY_LABELS, a.category) if a.category else "",
    }


def _arrival_page(
    request: HttpRequest, a: Arrival, *, form: VerifyForm | None = None, status: int = 200
) -> HttpResponse:
    actor = request_actor(request)
    full = actor.can(Perm.PERSON_VIEW_FULL)
    return render(
        request,
        "screening/arrival.html",
        {
            "a": a,
            "row": _row(a),
            # Grid workers visit people: their own grid's full phone and address.
            "phone": a.phone if full else mask_phone(a.phone) if a.phone else "",
            "address": a.address if full else "",
            "sources": selectors.arrival_sources(scope=actor.scope, arrival=a),
            "form": form or VerifyForm(),
            "place_form": PlaceForm(),
            "can_verify": actor.can(Perm.SCREENING_VERIFY)
            and a.status in ("received", "not_reached"),
        },
        status=status,
    )


@login_required
@require_GET
@domain_errors
def arrival(request: HttpRequest, arrival_id: int) -> HttpResponse:
    actor = request_actor(request)
    return _arrival_page(request, selectors.arrival_get(scope=actor.scope, arrival_id=arrival_id))


@login_required
@require_POST
@domain_errors
def verify(request: HttpRequest, arrival_id: int) -> HttpResponseBase:
    actor = request_actor(request)
    a = selectors.arrival_get(scope=actor.scope, arrival_id=arrival_id)
    form = VerifyForm(request.POST)
    if form.is_valid():
        try:
            done = services.arrival_verify(
                actor=actor, arrival=a, result=services.Verification(**form.cleaned_data)
            )
        except (Invalid, Conflict) as exc:
            form_error(form, exc)
        else:
            messages.success(request, gettext("Verification recorded."))
            if done.closed_at is not None:
                return redirect("screening:inbox")
            return redirect("screening:arrival", arrival_id=a.pk)
    return _arrival_page(request, a, form=form, status=422)


@login_required
@require_POST
@domain_errors
def place(request: HttpRequest, arrival_id: int) -> HttpResponseBase:
    actor = request_actor(request)
    a = selectors.arrival_get(scope=actor.scope, arrival_id=arrival_id)
    form = PlaceForm(request.POST)
    if form.is_valid():
        try:
            grid = jurisdiction_get(scope=actor.scope, code=form.cleaned_data["grid_code"])
            services.arrival_place(actor=actor, arrival=a, grid=grid)
        except (Invalid, Conflict, NotFound) as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, gettext("Arrival placed."))
    return redirect("screening:arrival", arrival_id=a.pk)


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def canvass(request: HttpRequest) -> HttpResponseBase:
    actor = request_actor(request)
    form = CanvassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.entry_of(**form.cleaned_data)
            a = services.canvass_register(actor=actor, entry=entry)
        except Invalid as exc:
            form_error(form, exc)
        else:
            messages.success(request, gettext("Newcomer registered."))
            return redirect("screening:arrival", arrival_id=a.pk)
    return render(
        request, "screening/canvass.html", {"form": form}, status=422 if form.errors else 200
    )


def _export_urls() -> dict[str, str]:
    return {
        "xlsx": reverse("screening:export_file", args=["xlsx"]),
        "csv": reverse("screening:export_file", args=["csv"]),
    }


@login_required
@require_GET
@domain_errors
def export(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    selectors.arrival_list(scope=actor.scope, limit=1)  # screening.view
    return export_page(request, actor=actor, title=gettext("Arrivals"), urls=_export_urls())


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def export_file(request: HttpRequest, fmt: str) -> HttpResponseBase:
    actor = request_actor(request)
    args = _list_args(request)
    node = _node(request, args.get("node")) if args.get("node") else None
    key = args.get("key") or "received"
    selectors.arrival_list(scope=actor.scope, node=node, key=key, limit=1)  # scope and perm
    return export_view(
        request,
        actor=actor,
        name="screening-arrivals",
        title=gettext("Arrivals"),
        columns=arrival_columns(),
        rows=lambda: arrival_rows(scope=actor.scope, node=node, key=key),
        fmt=fmt,
        urls=_export_urls(),
        jurisdiction_path=node.path if node else "",
    )
