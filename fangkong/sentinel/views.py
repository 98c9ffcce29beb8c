"""The sentinel pages: overview, units, the counter page (tablet and scanner), the daily file,
zero reports, registers and missing reports. Thin over the services and selectors; alerts
are in alert_views."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.models import User
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, Invalid, NotAllowed
from fangkong.core.masking import mask_document, mask_name
from fangkong.core.perms import Perm
from fangkong.core.web import domain_errors, is_htmx, request_actor
from fangkong.jurisdictions.selectors import jurisdiction_get
from fangkong.policy.selectors import rulebook_in_force
from fangkong.sentinel import rules, selectors, services
from fangkong.sentinel.imports import COLUMN_SYNONYMS, registrations_upload
from fangkong.sentinel.models import DrugClass, Registration, Unit

RECENT = 10


def _day(raw: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


def _after(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


def _reporting_unit(actor: Actor, unit_id: int) -> Unit:
    """A unit the actor files for (404 for any other)."""
    unit = selectors.unit_get(scope=actor.scope, unit_id=unit_id)
    services.check_reporter(actor, unit)
    return unit


@login_required
@require_GET
@domain_errors
def home(request: HttpRequest) -> HttpResponse:
    """Staff: today's figures. A pharmacy or clinic account: its units' counter pages."""
    actor = request_actor(request)
    if not actor.can(Perm.SENTINEL_VIEW):
        if not actor.can(Perm.SENTINEL_REPORT):
            raise NotAllowed("permission_denied", "Missing permission sentinel.view")
        units = selectors.units_by_ids(
            scope=actor.scope, unit_ids=services.units_reported_by(actor)
        )
        if len(units) == 1:
            return redirect("sentinel:counter", unit_id=units[0].pk)
        return render(request, "sentinel/my_units.html", {"units": units})
    today = clock.local_date()
    summary = selectors.sentinel_summary(scope=actor.scope, day=today, now=clock.now())
    yesterday = selectors.report_figures(scope=actor.scope, day=today - dt.timedelta(days=1))
    return render(
        request,
        "sentinel/home.html",
        {"summary": summary, "yesterday": yesterday, "streams": DrugClass.choices},
    )


@login_required
@require_GET
@domain_errors
def unit_list(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    kind = request.GET.get("kind", "")
    page = selectors.unit_list(scope=actor.scope, kind=kind, after=_after(request.GET.get("after")))
    return render(
        request,
        "sentinel/unit_list.html",
        {"page": page, "kind": kind, "can_manage": actor.can(Perm.SENTINEL_MANAGE)},
    )


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def unit_new(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    if not actor.can(Perm.SENTINEL_MANAGE):
        raise NotAllowed("permission_denied", "Missing permission sentinel.manage")
    error = ""
    values = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            node = jurisdiction_get(
                scope=actor.scope, code=str(values.get("jurisdiction_code", ""))
            )
            unit = services.unit_register(
                actor=actor,
                kind=str(values.get("kind", "")),
                jurisdiction=node,
                code=str(values.get("code", "")),
                name=str(values.get("name", "")),
            )
        except (Invalid, Conflict) as exc:
            error = exc.message
        else:
            return redirect("sentinel:unit", unit_id=unit.pk)
    return render(
        request,
        "sentinel/unit_new.html",
        {"error": error, "values": values, "kinds": Unit._meta.get_field("kind").choices},
        status=422 if error else 200,
    )


@login_required
@require_GET
@domain_errors
def unit_detail(request: HttpRequest, unit_id: int) -> HttpResponse:
    """A unit: its last two weeks of filing (records, zero report or missing), its operators."""
    actor = request_actor(request)
    if not actor.can(Perm.SENTINEL_VIEW):
        raise NotAllowed("permission_denied", "Missing permission sentinel.view")
    unit = selectors.unit_get(scope=actor.scope, unit_id=unit_id)
    today = clock.local_date()
    start = today - dt.timedelta(days=13)
    reports = selectors.unit_reports(scope=actor.scope, unit=unit, start=start, end=today)
    days = [(start + dt.timedelta(days=i)) for i in range(14)]
    return render(
        request,
        "sentinel/unit.html",
        {
            "unit": unit,
            "days": [(d, reports.get(d)) for d in reversed(days)],
            "operators": unit.operators.select_related("user").order_by("pk"),
            "tokens": unit.tokens.select_related("token").order_by("pk"),
            "can_manage": actor.can(Perm.SENTINEL_MANAGE),
        },
    )


@login_required
@require_POST
@domain_errors
def unit_operator(request: HttpRequest, unit_id: int) -> HttpResponse:
    actor = request_actor(request)
    unit = selectors.unit_get(scope=actor.scope, unit_id=unit_id)
    if not actor.can(Perm.SENTINEL_MANAGE):
        raise NotAllowed("permission_denied", "Missing permission sentinel.manage")
    user = User.objects.filter(username=request.POST.get("username", "")).first()
    try:
        if user is None:
            raise Invalid("sentinel.operator_unknown", "No such account")
        services.unit_operator_add(actor=actor, unit=unit, user=user)
    except Invalid as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The account now reports for this unit."))
    return redirect("sentinel:unit", unit_id=unit.pk)


@login_required
@require_POST
@domain_errors
def unit_token(request: HttpRequest, unit_id: int) -> HttpResponse:
    """Issue a token; the secret is shown on this response only."""
    actor = request_actor(request)
    unit = selectors.unit_get(scope=actor.scope, unit_id=unit_id)
    link, secret = services.unit_token_issue(
        actor=actor, unit=unit, name=request.POST.get("name", "")
    )
    return render(request, "sentinel/token.html", {"unit": unit, "link": link, "secret": secret})


def _counter_context(actor: Actor, unit: Unit, **extra: Any) -> dict[str, Any]:
    recent = selectors.registration_list(
        scope=actor.scope, unit=unit, day=clock.local_date(), limit=RECENT
    ).items
    return {
        "unit": unit,
        "purchase": unit.record_kind == "purchase",
        "classes": DrugClass.choices,
        "recent": [(r, mask_name(r.name), mask_document(r.doc_number)) for r in recent],
        "values": {},
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def counter(request: HttpRequest, unit_id: int) -> HttpResponse:
    """The counter page: one buyer or patient per entry, Enter submits, no page reload (htmx
    swaps the form and the result); a scanner types into the focused field and ends with
    Enter, which on the document and product fields moves on instead (counter.js)."""
    actor = request_actor(request)
    unit = _reporting_unit(actor, unit_id)
    if request.method == "GET":
        return render(request, "sentinel/counter.html", _counter_context(actor, unit))
    raw = {k: request.POST.get(k, "") for k in request.POST if k != "csrfmiddlewaretoken"}
    raw["client_id"] = raw.get("client_id", "")[:64]
    result = services.registrations_submit(
        actor=actor, unit=unit, items=[raw], source=Registration.Source.COUNTER
    )
    [item] = result.items
    status = 422 if item.status == "invalid" else 200
    context = _counter_context(
        actor, unit, item=item, values=raw if item.status == "invalid" else {}
    )
    template = "sentinel/_counter_form.html" if is_htmx(request) else "sentinel/counter.html"
    return render(request, template, context, status=status)


@login_required
@require_POST
@domain_errors
def zero_report(request: HttpRequest, unit_id: int) -> HttpResponse:
    actor = request_actor(request)
    unit = _reporting_unit(actor, unit_id)
    day = _day(request.POST.get("day"), clock.local_date())
    try:
        services.zero_report_file(actor=actor, unit=unit, day=day)
    except (Invalid, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Zero report filed for %(day)s.") % {"day": day.isoformat()})
    return redirect("sentinel:counter", unit_id=unit.pk)


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def upload(request: HttpRequest, unit_id: int) -> HttpResponse:
    """The daily file: all rows or none, every problem with its row, column and reason."""
    actor = request_actor(request)
    unit = _reporting_unit(actor, unit_id)
    context: dict[str, Any] = {"unit": unit, "columns": COLUMN_SYNONYMS}
    status = 200
    if request.method == "POST":
        file = request.FILES.get("file")
        if file is None:
            context["refused"] = _("Choose a csv or xlsx file.")
            status = 422
        else:
            try:
                result = registrations_upload(actor=actor, unit=unit, file=file.read())
            except Invalid as exc:
                context["refused"] = exc.message
                status = 422
            else:
                context["result"] = result
                status = 200 if result.ok else 422
    return render(request, "sentinel/upload.html", context, status=status)


@login_required
@require_GET
@domain_errors
def records(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    day = _day(request.GET.get("day"), clock.local_date())
    flagged = request.GET.get("flagged") == "1"
    test_required = request.GET.get("test") == "1"
    page = selectors.registration_list(
        scope=actor.scope,
        day=day,
        flagged=flagged,
        test_required=test_required,
        after=_after(request.GET.get("after")),
    )
    rows = [(r, mask_name(r.name), mask_document(r.doc_number)) for r in page.items]
    return render(
        request,
        "sentinel/records.html",
        {"rows": rows, "page": page, "day": day, "flagged": flagged, "test": test_required},
    )


@login_required
@require_GET
@domain_errors
def missing(request: HttpRequest) -> HttpResponse:
    """Units that filed nothing for a day (default yesterday): neither records nor a zero
    report."""
    actor = request_actor(request)
    day = _day(request.GET.get("day"), clock.local_date() - dt.timedelta(days=1))
    page = selectors.missing_reports(
        scope=actor.scope, day=day, after=_after(request.GET.get("after"))
    )
    figures = selectors.report_figures(scope=actor.scope, day=day)
    hour = rulebook_in_force().book.sentinel.report_due_hour
    due = rules.report_due_at(day, due_hour=hour, midnight=clock.local_midnight(day))
    return render(
        request,
        "sentinel/missing.html",
        {"page": page, "day": day, "figures": figures, "due": due, "overdue": clock.now() > due},
    )
