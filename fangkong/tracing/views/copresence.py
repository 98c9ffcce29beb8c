"""The co-presence pages: queue a run of the engine from the case page, then follow it on
the run's page (polled with htmx while the worker has it) until its candidates are ready for
confirmation on the contacts page. Thin adapters over tracing.services and selectors."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from fangkong.core.errors import Conflict, Invalid
from fangkong.core.masking import mask_name
from fangkong.core.web import domain_errors, request_actor
from fangkong.tracing import selectors, services
from fangkong.tracing.forms import RunForm
from fangkong.tracing.models import CopresenceRun
from fangkong.tracing.views._common import problem, require_write

CANDIDATES_SHOWN = 20


@login_required
@require_POST
@domain_errors
def copresence(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request_actor(request)
    case = selectors.case_get(scope=actor.scope, case_id=case_id)
    require_write(request)
    form = RunForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the degree."))
        return redirect("tracing:case", case_id=case.pk)
    try:
        run = services.copresence_request(actor, case=case, degree=form.cleaned_data["degree"])
    except (Invalid, Conflict) as exc:
        problem(request, exc)
        return redirect("tracing:case", case_id=case.pk)
    return redirect("tracing:copresence_run", case_id=case.pk, run_id=run.pk)


@login_required
@require_GET
@domain_errors
def copresence_run(request: HttpRequest, case_id: int, run_id: int) -> HttpResponse:
    actor = request_actor(request)
    case = selectors.case_get(scope=actor.scope, case_id=case_id)
    run = selectors.copresence_run_get(scope=actor.scope, case=case, run_id=run_id)
    context = {
        "case": case,
        "run": run,
        "waiting": run.status == CopresenceRun.Status.QUEUED,
        "progress": services.run_progress(run),
        "candidates": [],
    }
    if run.status == CopresenceRun.Status.DONE:
        strongest = selectors.candidates_strongest(
            scope=actor.scope, case=case, limit=CANDIDATES_SHOWN
        )
        venues = selectors.venue_names([c.venue_id for c in strongest])
        context["candidates"] = [
            (c, mask_name(c.person.name), venues.get(c.venue_id or 0, "")) for c in strongest
        ]
    template = (
        "tracing/_copresence_status.html"
        if request.headers.get("HX-Request")
        else "tracing/copresence_run.html"
    )
    return render(request, template, context)
