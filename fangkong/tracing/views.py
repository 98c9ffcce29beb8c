"""Investigator pages (desktop): case list, case detail with the investigation's clocks and
trajectory, contacts with bulk confirmation, clusters with the transmission graph and the
epidemic curve, the KPI board. Thin adapters over tracing.services and selectors.

Persons appear masked. NotFound becomes 404 and NotAllowed 403 in `domain_errors`; Invalid
and Conflict go back to the page that caused them as a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fangkong.core.errors import Conflict, Invalid, NotAllowed, NotFound
from fangkong.core.masking import mask_name
from fangkong.core.perms import Perm
from fangkong.core.web import domain_errors, form_error, request_actor
from fangkong.people.selectors import person_find_by_document
from fangkong.tracing import chains, selectors, services
from fangkong.tracing.forms import (
    BulkForm,
    CaseFilterForm,
    ClusterJoinForm,
    ClusterOpenForm,
    ContactAddForm,
    ContactFilterForm,
    KpiForm,
    ReasonForm,
    RunForm,
    StepForm,
    TrajectoryForm,
)
from fangkong.tracing.models import Case


def _write(request: HttpRequest) -> None:
    if not request_actor(request).can(Perm.TRACING_WRITE):
        raise NotAllowed("permission_denied", "Missing permission tracing.write")


def _problem(request: HttpRequest, exc: Invalid | Conflict | NotFound) -> None:
    messages.error(request, exc.message)


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


def _case_context(request: HttpRequest, case: Case) -> dict[str, Any]:
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
    return render(request, "tracing/case.html", _case_context(request, case))


@login_required
@require_POST
@domain_errors
def step_complete(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request_actor(request)
    case = selectors.case_get(scope=actor.scope, case_id=case_id)
    _write(request)
    form = StepForm(request.POST)
    if form.is_valid():
        try:
            services.investigation_step_complete(
                actor,
                investigation=case.investigation,
                step=form.cleaned_data["step"],
                report=form.cleaned_data["report"],
            )
        except (Invalid, Conflict) as exc:
            _problem(request, exc)
    else:
        messages.error(request, _("Unknown step."))
    return redirect("tracing:case", case_id=case.pk)


@login_required
@require_POST
@domain_errors
def trajectory_add(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request_actor(request)
    case = selectors.case_get(scope=actor.scope, case_id=case_id)
    _write(request)
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
        context = _case_context(request, case) | {"trajectory_form": form}
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
    actor = request_actor(request)
    case = selectors.case_get(scope=actor.scope, case_id=case_id)
    _write(request)
    form = ContactAddForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
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
        except (Invalid, Conflict, NotFound) as exc:
            _problem(request, exc)
        else:
            messages.success(request, _("Contact recorded."))
    else:
        messages.error(request, _("Check the contact's fields."))
    return redirect("tracing:contacts", case_id=case.pk)


@login_required
@require_POST
@domain_errors
def contacts_bulk(request: HttpRequest, case_id: int) -> HttpResponse:
    """Confirm or dismiss the ticked candidates of a case."""
    actor = request_actor(request)
    case = selectors.case_get(scope=actor.scope, case_id=case_id)
    _write(request)
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
        _problem(request, exc)
    return redirect("tracing:contacts", case_id=case.pk)


@login_required
@require_GET
@domain_errors
def cluster_list(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    return render(
        request,
        "tracing/cluster_list.html",
        {"clusters": selectors.cluster_list(scope=actor.scope)},
    )


@dataclass(frozen=True)
class Bar:
    x: int
    y_confirmed: int
    h_confirmed: int
    y_asymptomatic: int
    h_asymptomatic: int
    label: str
    total: int


CHART_H = 160
BAR_W = 18


def _bars(curve: list[chains.CurveDay]) -> tuple[list[Bar], int, int]:
    """Server-drawn epidemic curve: stacked bars (confirmed below, asymptomatic above)."""
    peak = max((d.total for d in curve), default=0) or 1
    bars = []
    for i, d in enumerate(curve):
        hc = round(d.confirmed * CHART_H / peak)
        ha = round(d.asymptomatic * CHART_H / peak)
        bars.append(
            Bar(
                i * (BAR_W + 4) + 30,
                CHART_H - hc + 10,
                hc,
                CHART_H - hc - ha + 10,
                ha,
                d.day.strftime("%m-%d"),
                d.total,
            )
        )
    return bars, max(len(curve) * (BAR_W + 4) + 40, 200), peak


@login_required
@require_GET
@domain_errors
def cluster_detail(request: HttpRequest, cluster_id: int) -> HttpResponse:
    actor = request_actor(request)
    cluster = selectors.cluster_get(scope=actor.scope, cluster_id=cluster_id)
    candidates = request.GET.get("candidates") == "1"
    graph = chains.cluster_graph(scope=actor.scope, cluster=cluster, include_candidates=candidates)
    bars, width, peak = _bars(chains.cluster_curve(scope=actor.scope, cluster=cluster))
    sources = chains.cluster_sources(scope=actor.scope, cluster=cluster)
    cases = selectors.cluster_cases(scope=actor.scope, cluster=cluster)
    return render(
        request,
        "tracing/cluster.html",
        {
            "cluster": cluster,
            "graph": graph,
            "candidates": candidates,
            "bars": bars,
            "chart_width": width,
            "chart_height": CHART_H + 40,
            "baseline": CHART_H + 10,
            "peak": peak,
            "sources": sources,
            "shared": [
                (s, sources.venue_labels.get(s.venue_id, f"#{s.venue_id}")) for s in sources.shared
            ],
            "cases": [(c, mask_name(c.person.name)) for c in cases],
            "can_write": actor.can(Perm.TRACING_WRITE) and cluster.status == "active",
            "close_form": ReasonForm(),
        },
    )


@login_required
@require_GET
@domain_errors
def kpi_board(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    form = KpiForm(request.GET)
    days = (form.cleaned_data.get("days") if form.is_valid() else None) or 28
    return render(
        request,
        "tracing/kpis.html",
        {"k": chains.kpis(scope=actor.scope, days=days), "form": form, "days": days},
    )


@login_required
@require_POST
@domain_errors
def cluster_open(request: HttpRequest, case_id: int) -> HttpResponse:
    """Open a named cluster around this case (idempotent per case)."""
    actor = request_actor(request)
    case = selectors.case_get(scope=actor.scope, case_id=case_id)
    _write(request)
    form = ClusterOpenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Name the cluster and give a reason."))
        return redirect("tracing:case", case_id=case.pk)
    try:
        cluster = services.cluster_open_for_case(
            actor, case=case, name=form.cleaned_data["name"], reason=form.cleaned_data["reason"]
        )
    except (Invalid, Conflict) as exc:
        _problem(request, exc)
        return redirect("tracing:case", case_id=case.pk)
    return redirect("tracing:cluster", cluster_id=cluster.pk)


@login_required
@require_POST
@domain_errors
def cluster_join(request: HttpRequest, case_id: int) -> HttpResponse:
    """Link this case to an existing cluster."""
    actor = request_actor(request)
    case = selectors.case_get(scope=actor.scope, case_id=case_id)
    _write(request)
    form = ClusterJoinForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a cluster."))
        return redirect("tracing:case", case_id=case.pk)
    cluster = selectors.cluster_get(scope=actor.scope, cluster_id=form.cleaned_data["cluster_id"])
    try:
        services.cluster_add_case(actor, cluster=cluster, case=case)
    except Conflict as exc:
        _problem(request, exc)
    return redirect("tracing:case", case_id=case.pk)


@login_required
@require_POST
@domain_errors
def cluster_close(request: HttpRequest, cluster_id: int) -> HttpResponse:
    actor = request_actor(request)
    cluster = selectors.cluster_get(scope=actor.scope, cluster_id=cluster_id)
    _write(request)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason."))
    else:
        try:
            services.cluster_close(actor, cluster=cluster, reason=form.cleaned_data["reason"])
        except (Invalid, Conflict) as exc:
            _problem(request, exc)
    return redirect("tracing:cluster", cluster_id=cluster.pk)
