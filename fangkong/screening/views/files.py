"""Imports from the page: upload (queued for the worker), progress, the recognised columns,
errors and the xlsx report; a source's saved column mapping."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core.errors import Invalid
from fangkong.core.web import domain_errors, form_error, request_actor
from fangkong.screening import columns, imports, selectors
from fangkong.screening.forms import MappingForm, UploadForm
from fangkong.screening.services._common import home_node


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def import_list(request: HttpRequest) -> HttpResponseBase:
    actor = request_actor(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = imports.import_start(
                actor=actor,
                file=form.cleaned_data["file"],
                root=home_node(actor),
                source_name=form.cleaned_data["source_name"],
                kind=form.cleaned_data["kind"],
                filename=form.cleaned_data["file"].name or "",
            )
        except Invalid as exc:
            form_error(form, exc)
        else:
            return redirect("screening:import", batch_id=batch.pk)
    batches = selectors.batch_list(scope=actor.scope)
    return render(
        request,
        "screening/imports.html",
        {"form": form, "batches": batches},
        status=422 if form.errors else 200,
    )


@login_required
@require_GET
@domain_errors
def import_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    actor = request_actor(request)
    batch = selectors.batch_get(scope=actor.scope, batch_id=batch_id)
    running = batch.state in ("queued", "running")
    errors = [
        {
            **e,
            "column_label": gettext(columns.LABELS.get(str(e.get("column")), str(e.get("column")))),
        }
        for e in list(batch.errors)[:200]
    ]
    context = {
        "batch": batch,
        "running": running,
        "progress": imports.progress_read(batch.sha256) if running else {},
        "errors": errors,
    }
    template = (
        "screening/_import_status.html"
        if request.headers.get("HX-Request")
        else "screening/import.html"
    )
    return render(request, template, context)


@login_required
@require_GET
@domain_errors
def import_report(request: HttpRequest, batch_id: int) -> HttpResponse:
    actor = request_actor(request)
    batch = selectors.batch_get(scope=actor.scope, batch_id=batch_id)
    data = imports.report_xlsx(list(batch.errors), translate=gettext)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-report.xlsx"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def mappings(request: HttpRequest) -> HttpResponseBase:
    actor = request_actor(request)
    selectors.batch_list(scope=actor.scope, limit=1)  # screening.view
    form = MappingForm(request.POST or None, initial={"source_name": request.GET.get("source", "")})
    if request.method == "POST" and form.is_valid():
        try:
            imports.mapping_save(
                actor=actor,
                root=home_node(actor),
                source_name=form.cleaned_data["source_name"],
                mapping=form.mapping(),
            )
        except Invalid as exc:
            form_error(form, exc)
        else:
            messages.success(
                request, gettext("Mapping saved; it applies to this source's next files.")
            )
            return redirect("screening:imports")
    return render(
        request,
        "screening/mappings.html",
        {"form": form, "fields": list(columns.FIELDS.items())},
        status=422 if form.errors else 200,
    )
