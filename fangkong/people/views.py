"""Person pages: search, person, reveal (htmx partial), merge, register, notes.

Thin adapters over people.services and people.selectors; they render PersonView (masked),
never a Person. NotFound becomes 404 and NotAllowed 403 through `core.web.domain_errors`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, Invalid, NotAllowed, NotFound
from fangkong.core.perms import Perm
from fangkong.core.web import domain_errors as _domain_errors
from fangkong.core.web import form_error as _form_error
from fangkong.core.web import request_actor as _actor
from fangkong.exports.http import export_page, export_view
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.jurisdictions.selectors import jurisdiction_get
from fangkong.people import selectors, services
from fangkong.people.exports import person_columns, person_rows
from fangkong.people.forms import MergeForm, NoteForm, RegisterForm, RevealForm, SearchForm
from fangkong.people.masked import PersonView
from fangkong.people.models import Person


@login_required
@require_http_methods(["GET", "POST"])
@_domain_errors
def search(request: HttpRequest) -> HttpResponse:
    """One box: ID number, phone or name. Without a query: the newest persons in scope.

    The query is POSTed: an ID number in a URL would end up in access logs and history.
    """
    actor = _actor(request)
    form = SearchForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {"form": form}
    if form.is_bound and form.is_valid() and form.cleaned_data["q"].strip():
        try:
            result = services.person_search(actor=actor, query=form.cleaned_data["q"])
        except Invalid as exc:
            _form_error(form, exc)
        else:
            context.update(kind=result.kind, people=[PersonView.of(p) for p in result.people])
    else:
        before = request.GET.get("before", "")
        page = selectors.person_list(
            scope=actor.scope, before=int(before) if before.isdigit() else None
        )
        context.update(people=[PersonView.of(p) for p in page.items], next_before=page.next_before)
    context["can_register"] = actor.can(Perm.PERSON_WRITE)
    response = render(request, "people/search.html", context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
@_domain_errors
def detail(request: HttpRequest, person_id: int) -> HttpResponse:
    actor = _actor(request)
    person = selectors.person_get(scope=actor.scope, person_id=person_id)
    if person.merged_into_id is not None:
        try:
            survivor = selectors.person_get(scope=actor.scope, person_id=person.merged_into_id)
        except NotFound:
            pass  # the survivor lives outside this scope: show the note, not the survivor
        else:
            return redirect("people:detail", person_id=survivor.pk)
    return _render_detail(request, actor, person)


def _render_detail(
    request: HttpRequest,
    actor: Actor,
    person: Person,
    *,
    note_form: NoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    notes = selectors.person_notes(scope=actor.scope, person=person)
    return render(
        request,
        "people/detail.html",
        {
            "person": PersonView.of(person),
            "notes": notes,
            "reveal_form": RevealForm(),
            "note_form": note_form or NoteForm(),
            "can_reveal": actor.can(Perm.PERSON_VIEW_FULL),
            "can_write": actor.can(Perm.PERSON_WRITE) and person.merged_into_id is None,
            "can_merge": actor.can(Perm.PERSON_MERGE) and person.merged_into_id is None,
        },
        status=status,
    )


@login_required
@require_POST
@_domain_errors
def reveal(request: HttpRequest, person_id: int) -> HttpResponse:
    """htmx: the full values for a stated reason (logged), replacing the reveal form."""
    actor = _actor(request)
    person = selectors.person_get(scope=actor.scope, person_id=person_id)
    form = RevealForm(request.POST)
    if form.is_valid():
        try:
            full = services.person_reveal(
                actor=actor, person=person, reason=form.cleaned_data["reason"]
            )
        except Invalid as exc:
            _form_error(form, exc)
        else:
            template = "people/_full_values.html" if request.htmx else "people/reveal.html"  # type: ignore[attr-defined]
            response = render(request, template, {"full": full, "person": PersonView.of(person)})
            response["Cache-Control"] = "no-store"
            return response
    template = "people/_reveal_form.html" if request.htmx else "people/reveal.html"  # type: ignore[attr-defined]
    return render(
        request,
        template,
        {"reveal_form": form, "person": PersonView.of(person)},
        status=200 if request.htmx else 422,  # type: ignore[attr-defined]  # htmx swaps 2xx only
    )


@login_required
@require_POST
@_domain_errors
def note_add(request: HttpRequest, person_id: int) -> HttpResponse:
    actor = _actor(request)
    person = selectors.person_get(scope=actor.scope, person_id=person_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.person_note_add(actor=actor, person=person, text=form.cleaned_data["text"])
        except Invalid as exc:
            _form_error(form, exc)
        else:
            return redirect("people:detail", person_id=person.pk)
    return _render_detail(request, actor, person, note_form=form, status=422)


@login_required
@require_http_methods(["GET", "POST"])
@_domain_errors
def merge(request: HttpRequest, person_id: int) -> HttpResponse:
    """Merge another record (a duplicate) into this person."""
    actor = _actor(request)
    survivor = selectors.person_get(scope=actor.scope, person_id=person_id)
    if not actor.can(Perm.PERSON_MERGE):
        raise NotAllowed("permission_denied", "Missing permission person.merge")
    form = MergeForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            duplicate = selectors.person_get(
                scope=actor.scope, person_id=form.cleaned_data["duplicate_id"]
            )
            try:
                services.person_merge(
                    actor=actor,
                    survivor=survivor,
                    duplicate=duplicate,
                    reason=form.cleaned_data["reason"],
                )
            except (Invalid, Conflict) as exc:
                _form_error(form, exc)
            else:
                return redirect("people:detail", person_id=survivor.pk)
    return render(
        request,
        "people/merge.html",
        {"person": PersonView.of(survivor), "form": form},
        status=status,
    )


def _default_grid_code(actor: Actor) -> str:
    # A grid worker bound to one grid registers there; others type the code.
    if len(actor.scope.paths) == 1:
        code = actor.scope.paths[0].rstrip("/").rsplit("/", 1)[-1]
        if len(code) == 18:
            return code
    return ""


@login_required
@require_http_methods(["GET", "POST"])
@_domain_errors
def register(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not actor.can(Perm.PERSON_WRITE):
        raise NotAllowed("permission_denied", "Missing permission person.write")
    if request.method != "POST":
        form = RegisterForm(initial={"grid_code": _default_grid_code(actor)})
        return render(request, "people/register.html", {"form": form})
    form = RegisterForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            grid = jurisdiction_get(scope=actor.scope, code=data["grid_code"])
        except NotFound:
            form.add_error("grid_code", gettext("Unknown grid code"))
        else:
            try:
                person, created = services.person_register(
                    actor=actor,
                    doc_type=data["doc_type"],
                    doc_number=data["doc_number"],
                    name=data["name"],
                    sex=data["sex"] or None,
                    birth_date=data["birth_date"],
                    phone=data["phone"],
                    address=data["address"],
                    grid=grid,
                )
            except (Invalid, Conflict) as exc:
                _form_error(form, exc)
            else:
                if not created:
                    messages.info(
                        request, gettext("Already registered: this is the existing record.")
                    )
                return HttpResponseRedirect(reverse("people:detail", args=[person.pk]))
    return render(request, "people/register.html", {"form": form}, status=422)


def _export_grid(actor: Actor, request: HttpRequest) -> Jurisdiction | None:
    code = request.GET.get("grid", "")
    return jurisdiction_get(scope=actor.scope, code=code) if code else None  # NotFound: 404


def _export_urls() -> dict[str, str]:
    return {f: reverse("people:export_file", args=[f]) for f in ("xlsx", "csv")}


@login_required
@require_GET
@_domain_errors
def export(request: HttpRequest) -> HttpResponse:
    """The export choice for the person list: masked files, or full values with a reason."""
    actor = _actor(request)
    selectors.person_list(scope=actor.scope, grid=_export_grid(actor, request), limit=1)
    return export_page(request, actor=actor, title=gettext("People"), urls=_export_urls())


@login_required
@require_http_methods(["GET", "POST"])
@_domain_errors
def export_file(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """GET: the person list in scope, masked. POST with a reason: full values (audited)."""
    if fmt not in ("xlsx", "csv"):
        raise Http404
    actor = _actor(request)
    grid = _export_grid(actor, request)
    selectors.person_list(scope=actor.scope, grid=grid, limit=1)  # permission before any work
    return export_view(
        request,
        actor=actor,
        name="people",
        title=gettext("People"),
        columns=person_columns(),
        rows=lambda: person_rows(scope=actor.scope, grid=grid),
        fmt=fmt,
        urls=_export_urls(),
        jurisdiction_path=grid.path if grid is not None else _scope_root(actor),
    )


def _scope_root(actor: Actor) -> str:
    return actor.scope.paths[0] if len(actor.scope.paths) == 1 else ""
