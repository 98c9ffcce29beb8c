"""Mass-testing pages: rounds and their coverage board with the progress chart, the grid's
not-yet-sampled list with excusals, the sampler phone page, lab result upload, the positive
pools and their retests. Thin adapters over mass_testing.services and selectors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import clock
from fangkong.core.actor import Actor, require
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.core.perms import Perm
from fangkong.core.web import domain_errors, form_error, request_actor
from fangkong.jurisdictions.models import Jurisdiction, Level
from fangkong.mass_testing import chart, selectors, services
from fangkong.mass_testing.forms import (
    ExcusalForm,
    ResultUploadForm,
    RetestForm,
    RoundForm,
    SiteForm,
)
from fangkong.mass_testing.models import Round
from fangkong.mass_testing.rules import ScanOutcome
from fangkong.people.masked import PersonView


def _node(actor: Actor, code: str) -> Jurisdiction:
    node = Jurisdiction.objects.filter(code=(code or "").strip()).first()
    if node is None or not actor.scope.covers(node.path):
        raise NotFound(
            "jurisdiction.not_found", "No such node in your territory", field="node_code"
        )
    return node


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def round_list(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    require(actor, Perm.TESTING_VIEW)
    form = RoundForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        require(actor, Perm.TESTING_MANAGE)
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                rnd = services.round_create(
                    actor=actor,
                    name=data["name"],
                    areas=[(_node(actor, data["node_code"]), data["area_type"])],
                    starts_at=data["starts_at"],
                    deadline=data["deadline"],
                )
            except (Invalid, Conflict, NotFound) as exc:
                form_error(form, exc)
            else:
                return redirect("mass_testing:round", round_id=rnd.pk)
    rounds = selectors.round_list(scope=actor.scope)
    return render(
        request,
        "mass_testing/rounds.html",
        {"rounds": rounds, "form": form, "can_manage": actor.can(Perm.TESTING_MANAGE)},
        status=status,
    )


def _board(
    request: HttpRequest,
    actor: Actor,
    rnd: Round,
    *,
    site_form: SiteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    node_id = request.GET.get("node")
    total, children, node = selectors.coverage(
        scope=actor.scope, rnd=rnd, node_id=int(node_id) if node_id and node_id.isdigit() else None
    )
    points = selectors.progress(scope=actor.scope, rnd=rnd, node=node)
    svg = chart.progress_chart(
        [(p.hour, p.sampled) for p in points],
        due=total.due,
        starts_at=rnd.starts_at,
        deadline=rnd.deadline,
        now=clock.now(),
    )
    return render(
        request,
        "mass_testing/round.html",
        {
            "round": rnd,
            "node": node,
            "total": total,
            "children": children,
            "child_is_grid": node.level + 1 == Level.GRID,
            "chart": svg,
            "plan": selectors.round_plan(scope=actor.scope, rnd=rnd),
            "areas": selectors.round_areas(scope=actor.scope, rnd=rnd),
            "sites": selectors.round_sites(scope=actor.scope, rnd=rnd),
            "site_form": site_form or SiteForm(),
            "can_manage": actor.can(Perm.TESTING_MANAGE),
            "can_sample": actor.can(Perm.TESTING_SAMPLE),
        },
        status=status,
    )


@login_required
@require_GET
@domain_errors
def round_board(request: HttpRequest, round_id: int) -> HttpResponse:
    actor = request_actor(request)
    require(actor, Perm.TESTING_VIEW)
    rnd = selectors.round_get(scope=actor.scope, round_id=round_id)
    return _board(request, actor, rnd)


@login_required
@require_POST
@domain_errors
def round_refresh(request: HttpRequest, round_id: int) -> HttpResponse:
    actor = request_actor(request)
    require(actor, Perm.TESTING_MANAGE)
    rnd = selectors.round_get(scope=actor.scope, round_id=round_id)
    services.coverage_refresh(rnd=rnd)
    return redirect("mass_testing:round", round_id=rnd.pk)


@login_required
@require_POST
@domain_errors
def round_unsampled_inbox(request: HttpRequest, round_id: int) -> HttpResponse:
    actor = request_actor(request)
    require(actor, Perm.TESTING_MANAGE)
    rnd = selectors.round_get(scope=actor.scope, round_id=round_id)
    made = services.unsampled_to_inbox(actor=actor, rnd=rnd)
    messages.success(
        request, gettext("%(n)d grid(s) got their not-yet-sampled list.") % {"n": made}
    )
    return redirect("mass_testing:round", round_id=rnd.pk)


@login_required
@require_POST
@domain_errors
def site_add(request: HttpRequest, round_id: int) -> HttpResponse:
    actor = request_actor(request)
    require(actor, Perm.TESTING_MANAGE)
    rnd = selectors.round_get(scope=actor.scope, round_id=round_id)
    form = SiteForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.site_create(
                actor=actor,
                rnd=rnd,
                node=_node(actor, data["node_code"]),
                name=data["name"],
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
                samplers=data["samplers"],
            )
        except (Invalid, Conflict, NotFound) as exc:
            form_error(form, exc)
        else:
            return redirect("mass_testing:round", round_id=rnd.pk)
    return _board(request, actor, rnd, site_form=form, status=422)


def _grid(actor: Actor, grid_id: int) -> Jurisdiction:
    grid = Jurisdiction.objects.filter(pk=grid_id, level=Level.GRID).first()
    if grid is None or not actor.scope.covers(grid.path):
        raise NotFound("jurisdiction.not_found", "Not found")
    return grid


def _unsampled_page(
    request: HttpRequest,
    actor: Actor,
    rnd: Round,
    grid: Jurisdiction,
    *,
    form: ExcusalForm | None = None,
    status: int = 200,
) -> HttpResponse:
    after = request.GET.get("after")
    page = selectors.unsampled_list(
        scope=actor.scope,
        rnd=rnd,
        grid=grid,
        after=int(after) if after and after.isdigit() else None,
    )
    excusals = selectors.excusal_list(scope=actor.scope, rnd=rnd, grid=grid)
    return render(
        request,
        "mass_testing/unsampled.html",
        {
            "round": rnd,
            "grid": grid,
            "rows": [PersonView.of(p) for p in page.items],
            "next_after": page.next_after,
            "excusals": [(e, PersonView.of(e.person)) for e in excusals],
            "form": form or ExcusalForm(),
            "can_manage": actor.can(Perm.TESTING_MANAGE),
        },
        status=status,
    )


@login_required
@require_GET
@domain_errors
def unsampled(request: HttpRequest, round_id: int, grid_id: int) -> HttpResponse:
    actor = request_actor(request)
    require(actor, Perm.TESTING_VIEW)
    rnd = selectors.round_get(scope=actor.scope, round_id=round_id)
    return _unsampled_page(request, actor, rnd, _grid(actor, grid_id))


@login_required
@require_POST
@domain_errors
def excuse(request: HttpRequest, round_id: int, grid_id: int) -> HttpResponse:
    actor = request_actor(request)
    require(actor, Perm.TESTING_MANAGE)
    rnd = selectors.round_get(scope=actor.scope, round_id=round_id)
    grid = _grid(actor, grid_id)
    form = ExcusalForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        person = selectors.person_in_grid(scope=actor.scope, grid=grid, person_id=data["person_id"])
        try:
            services.excusal_record(
                actor=actor, rnd=rnd, person=person, reason=data["reason"], note=data["note"]
            )
        except (Invalid, Conflict) as exc:
            form_error(form, exc)
        else:
            return redirect("mass_testing:unsampled", round_id=rnd.pk, grid_id=grid.pk)
    return _unsampled_page(request, actor, rnd, grid, form=form, status=422)


def _outcome_labels() -> dict[str, str]:
    """What the sampler sees for each answer to a scan (the page keeps working offline, so the
    labels travel with it)."""
    return {
        ScanOutcome.ACCEPTED: pgettext("scan outcome", "recorded"),
        ScanOutcome.DUPLICATE: pgettext("scan outcome", "already recorded"),
        ScanOutcome.TUBE_CLOSED: pgettext("scan outcome", "tube already closed"),
        ScanOutcome.TUBE_FULL: pgettext("scan outcome", "tube full"),
        ScanOutcome.IN_OTHER_OPEN_TUBE: pgettext("scan outcome", "person is in another open tube"),
        ScanOutcome.ALREADY_IN_TUBE: pgettext("scan outcome", "person already in this tube"),
        ScanOutcome.PERSON_UNKNOWN: pgettext("scan outcome", "person not in the registry"),
        ScanOutcome.TUBE_OTHER_ROUND: pgettext("scan outcome", "tube belongs to another round"),
        ScanOutcome.SITE_UNKNOWN: pgettext("scan outcome", "site not in this round"),
        ScanOutcome.OUT_OF_ROUND: pgettext("scan outcome", "sampled outside the round"),
        ScanOutcome.OTHER_HOUSEHOLD: pgettext("scan outcome", "tube holds another household"),
        ScanOutcome.INVALID: pgettext("scan outcome", "scan not valid"),
    }


@login_required
@require_GET
@domain_errors
def sampler(request: HttpRequest, round_id: int) -> HttpResponse:
    """The sampler's phone page: scans queue in the browser and go out when the network is
    there (static/mass_testing/sampler.js); the page itself only needs loading once."""
    actor = request_actor(request)
    require(actor, Perm.TESTING_SAMPLE)
    rnd = selectors.round_get(scope=actor.scope, round_id=round_id)
    return render(
        request,
        "mass_testing/sampler.html",
        {
            "round": rnd,
            "sites": selectors.round_sites(scope=actor.scope, rnd=rnd),
            "endpoint": reverse("api:mass_testing_scans", args=[rnd.pk]),
            "outcome_labels": _outcome_labels(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def results(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    require(actor, Perm.TESTING_RESULT)
    form = ResultUploadForm(request.POST or None, request.FILES or None)
    report = None
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                report = services.results_upload(
                    actor=actor, lab=form.cleaned_data["lab"], file=form.cleaned_data["file"]
                )
            except Invalid as exc:
                form_error(form, exc)
                rows: Any = exc.detail.get("rows") or []
                form.problem_rows = rows  # type: ignore[attr-defined]
            else:
                status = 200
    problems = selectors.lab_problems(scope=actor.scope)
    return render(
        request,
        "mass_testing/results.html",
        {"form": form, "report": report, "problems": problems},
        status=status,
    )


@login_required
@require_GET
@domain_errors
def pool_list(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    require(actor, Perm.TESTING_VIEW)
    show = request.GET.get("status", "open")
    pools = selectors.pool_list(
        scope=actor.scope, status=show if show in ("open", "resolved") else "open"
    )
    now = clock.now()
    rows = [(p, int((p.retest_due_at - now).total_seconds() // 60)) for p in pools]
    return render(request, "mass_testing/pools.html", {"rows": rows, "show": show})


def _pool_page(
    request: HttpRequest,
    actor: Actor,
    pool_id: int,
    form: RetestForm | None = None,
    status: int = 200,
) -> HttpResponse:
    pool = selectors.pool_get(scope=actor.scope, pool_id=pool_id)
    retests = selectors.pool_retests(scope=actor.scope, pool=pool)
    return render(
        request,
        "mass_testing/pool.html",
        {
            "pool": pool,
            "retests": [(r, PersonView.of(r.person)) for r in retests],
            "form": form or RetestForm(),
            "can_record": actor.can(Perm.TESTING_RESULT),
            "minutes_left": int((pool.retest_due_at - clock.now()).total_seconds() // 60),
        },
        status=status,
    )


@login_required
@require_GET
@domain_errors
def pool_detail(request: HttpRequest, pool_id: int) -> HttpResponse:
    actor = request_actor(request)
    require(actor, Perm.TESTING_VIEW)
    return _pool_page(request, actor, pool_id)


@login_required
@require_POST
@domain_errors
def retest(request: HttpRequest, retest_id: int) -> HttpResponse:
    actor = request_actor(request)
    require(actor, Perm.TESTING_RESULT)
    rt = selectors.retest_get(scope=actor.scope, retest_id=retest_id)
    form = RetestForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.retest_record(
                actor=actor,
                retest=rt,
                result=data["result"],
                sampled_at=data["sampled_at"],
                barcode=data["barcode"],
            )
        except (Invalid, Conflict) as exc:
            form_error(form, exc)
        else:
            return redirect("mass_testing:pool", pool_id=rt.pool_id)
    return _pool_page(request, actor, rt.pool_id, form=form, status=422)
