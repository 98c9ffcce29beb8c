"""Cluster pages: the list, a cluster with its transmission graph and epidemic curve, the KPI
board; opening, joining and closing clusters."""

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
from fangkong.core.errors import Conflict, Invalid
from fangkong.core.masking import mask_name
from fangkong.core.perms import Perm
from fangkong.core.web import domain_errors, request_actor
from fangkong.tracing import chains, selectors, services
from fangkong.tracing.forms import (
    ClusterJoinForm,
    ClusterOpenForm,
    KpiForm,
    ReasonForm,
)
from fangkong.tracing.models import Case
from fangkong.tracing.views._common import case_write, problem, require_write


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

    def act(actor: Actor, case: Case, data: dict[str, Any]) -> HttpResponse:
        cluster = services.cluster_open_for_case(
            actor, case=case, name=data["name"], reason=data["reason"]
        )
        return redirect("tracing:cluster", cluster_id=cluster.pk)

    return case_write(
        request, case_id, ClusterOpenForm, _("Name the cluster and give a reason."), act
    )


@login_required
@require_POST
@domain_errors
def cluster_join(request: HttpRequest, case_id: int) -> HttpResponse:
    """Link this case to an existing cluster."""

    def act(actor: Actor, case: Case, data: dict[str, Any]) -> None:
        cluster = selectors.cluster_get(scope=actor.scope, cluster_id=data["cluster_id"])
        services.cluster_add_case(actor, cluster=cluster, case=case)

    return case_write(request, case_id, ClusterJoinForm, _("Choose a cluster."), act)


@login_required
@require_POST
@domain_errors
def cluster_close(request: HttpRequest, cluster_id: int) -> HttpResponse:
    actor = request_actor(request)
    cluster = selectors.cluster_get(scope=actor.scope, cluster_id=cluster_id)
    require_write(request)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason."))
    else:
        try:
            services.cluster_close(actor, cluster=cluster, reason=form.cleaned_data["reason"])
        except (Invalid, Conflict) as exc:
            problem(request, exc)
    return redirect("tracing:cluster", cluster_id=cluster.pk)
