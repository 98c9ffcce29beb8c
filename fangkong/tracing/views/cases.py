"""Investigator pages of a case: the case list, the case with its clocks and trajectory, its
contacts with bulk confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.core.masking import mask_name
from fangkong.core.perms import Perm
from fangkong.core.web import domain_errors, form_error, request_actor
from fangkong.people.selectors import person_find_by_document
from fangkong.tracing import selectors, services
from fangkong.tracing.forms import (
    BulkForm,
    CaseFilterForm,
    ClusterOpenForm,
    ContactAddForm,
    ContactFilterForm,
    RunForm,
    StepForm,
    TrajectoryForm,
)
from fangkong.tracing.models import Case
from fangkong.tracing.views._common import case_write, problem, require_write


@login_required
@require_GET
@domain_errors
def case_list(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    filters = CaseFilterForm(request.GET)
    values = filters.cleaned_data if filters.is_valid() else {}
    page = selectors.case_list(
        scope=actor.scope, status=values.get("status") or None, after_id=values.get("after")
    )
    query = request.GET.copy()
    query.pop("after", None)
    next_query = None
    if page.next_after is not None:
        query["after"] = str(page.next_after)
        next_query = query.urlencode()
    rows = [(c, mask_name(c.person.name)) for c in page.items]
    return render(
        request,
        "tracing/case_list.html",
        {"filters": filters, "rows": rows, "next_query": next_query},
    )


def case_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    actor = request_actor(request)
    return {
        "case": case,
        "person_name": mask_name(case.person.name),
        "clocks": selectors.investigation_clocks(
            scope=actor.scope, investigation=case.investigation
        ),
        "trajectory": selectors.case_trajectory(scope=actor.scope, case=case),
        "runs": selectors.copresence_runs(scope=actor.scope, case=case),
        "contacts": selectors.contact_list(scope=actor.scope, case=case, limit=10).items,
        "can_write": actor.can(Perm.TRACING_WRITE),
        "trajectory_form": TrajectoryForm(),
        "run_form": RunForm(),
        "cluster_form": ClusterOpenForm(),
        "open_clusters": selectors.cluster_list(scope=actor.scope, status="active", limit=50)
        if case.cluster_id is None
        else [],
    }


@login_required
@require_GET
@domain_errors
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_get(scope=request_actor(request).scope, case_id=case_id)
    return render(request, "tracing/case.html", case_context(request, case))


@login_required
@require_POST
@domain_errors
def step_complete(request: HttpRequest, case_id: int) -> HttpResponse:
    def act(actor: Actor, case: Case, data: dict[str, Any]) -> None:
        services.investigation_step_complete(
            actor, investigation=case.investigation, step=data["step"], report=data["report"]
        )

    return case_write(request, case_id, StepForm, _("Unknown step."), act)


@login_required
@require_POST
@domain_errors
def trajectory_add(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request_actor(request)
    case = selectors.case_get(scope=actor.scope, case_id=case_id)
    require_write(request)
    form = TrajectoryForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.trajectory_add(
                actor,
                case=case,
                place=data["place"],
                started_at=data["started_at"],
                ended_at=data["ended_at"],
            )
        except Invalid as exc:
            form_error(form, exc)
    if form.errors:
        context = case_context(request, case) | {"trajectory_form": form}
        return render(request, "tracing/case.html", context, status=422)
    return redirect("tracing:case", case_id=case.pk)


@dataclass(frozen=True)
class ContactRow:
    contact: Any
    name: str
    venue: str


@login_required
@require_GET
@domain_errors
def contacts(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request_actor(request)
    case = selectors.case_get(scope=actor.scope, case_id=case_id)
    filters = ContactFilterForm(request.GET)
    values = filters.cleaned_data if filters.is_valid() else {}
    page = selectors.contact_list(
        scope=actor.scope,
        case=case,
        status=values.get("status") or None,
        after_id=values.get("after"),
        limit=200,
    )
    venues = selectors.venue_names([c.venue_id for c in page.items])
    rows = [
        ContactRow(
            c,
            mask_name(c.person.name),
            venues.get(c.venue_id, f"#{c.venue_id}") if c.venue_id else "",
        )
        for c in page.items
    ]
    query = request.GET.copy()
    query.pop("after", None)
    next_query = None
    if page.next_after is not None:
        query["after"] = str(page.next_after)
        next_query = query.urlencode()
    return render(
        request,
        "tracing/contacts.html",
        {
            "case": case,
            "person_name": mask_name(case.person.name),
            "rows": rows,
            "filters": filters,
            "next_query": next_query,
            "can_write": actor.can(Perm.TRACING_WRITE),
            "bulk_form": BulkForm(ids=[]),
            "add_form": ContactAddForm(),
        },
    )


@login_required
@require_POST
@domain_errors
def contact_add(request: HttpRequest, case_id: int) -> HttpResponse:
    def act(actor: Actor, case: Case, data: dict[str, Any]) -> str:
        found = person_find_by_document(scope=actor.scope, number=data["doc_number"])
        if not found:
            raise NotFound(
                "person.not_found", _("No person with that document number in your territory.")
            )
        services.contact_add(
            actor,
            case=case,
            person_id=found[0].pk,
            exposure=data["exposure"],
            first_exposure_at=data["first_exposure_at"],
            last_exposure_at=data["last_exposure_at"],
            general=data["general"],
            note=data["note"],
        )
        return _("Contact recorded.")

    return case_write(
        request, case_id, ContactAddForm, _("Check the contact's fields."), act,
        back="tracing:contacts",
    )  # fmt: skip


@login_required
@require_POST
@domain_errors
def contacts_bulk(request: HttpRequest, case_id: int) -> HttpResponse:
    """Confirm or dismiss the ticked candidates of a case."""
    actor = request_actor(request)
    case = selectors.case_get(scope=actor.scope, case_id=case_id)
    require_write(request)
    ids = [int(i) for i in request.POST.getlist("contact_ids") if i.isdigit()][:2000]
    mine = list(case.contacts.filter(pk__in=ids).values_list("pk", flat=True))
    form = BulkForm(request.POST, ids=mine)
    if not form.is_valid():
        messages.error(request, _("Tick at least one candidate and give a reason."))
        return redirect("tracing:contacts", case_id=case.pk)
    data = form.cleaned_data
    try:
        if request.POST.get("action") == "dismiss":
            n = services.contacts_dismiss(
                actor, contact_ids=data["contact_ids"], reason=data["reason"]
            )
            messages.success(request, _("%(n)s candidates dismissed.") % {"n": n})
        else:
            result = services.contacts_confirm(
                actor,
                contact_ids=data["contact_ids"],
                reason=data["reason"],
                category=data["category"] or None,
            )
            messages.success(
                request,
                _(
                    "%(n)s contacts confirmed: %(orders)s control orders, %(assist)s assist requests to other districts."
                )
                % {
                    "n": result.confirmed,
                    "orders": result.orders,
                    "assist": len(result.assist_requests),
                },
            )
    except (Invalid, Conflict) as exc:
        problem(request, exc)
    return redirect("tracing:contacts", case_id=case.pk)
