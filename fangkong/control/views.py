"""Control pages: order list, person control page, order detail, issue, status, release (htmx),
test results, approval queue, tests due. Thin adapters over control.services and selectors.

Persons appear as PersonView (masked) only. NotFound becomes 404 and NotAllowed 403, once,
in `_domain_errors`; Invalid and Conflict go back to the form that caused them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.control import rules, selectors, services
from fangkong.control.exports import order_columns, order_rows
from fangkong.control.forms import (
    DayForm,
    DecideForm,
    IssueForm,
    OrderFilterForm,
    ReleaseForm,
    SampleResultForm,
    StatusForm,
)
from fangkong.control.models import ControlOrder
from fangkong.core import clock
from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, Invalid, NotAllowed, NotFound
from fangkong.core.perms import Perm
from fangkong.core.web import domain_errors as _domain_errors
from fangkong.core.web import form_error as _form_error
from fangkong.core.web import request_actor as _actor
from fangkong.exports.http import export_page, export_view
from fangkong.people.masked import PersonView


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


@login_required
@require_GET
@_domain_errors
def order_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    filters = OrderFilterForm(request.GET)
    values = filters.cleaned_data if filters.is_valid() else {}
    page = selectors.order_list(
        scope=actor.scope,
        status=values.get("status") or None,
        measure=values.get("measure") or None,
        after=values.get("after"),
    )
    query = request.GET.copy()
    query.pop("after", None)
    first_query = query.urlencode() if values.get("after") else None
    next_query = None
    if page.next_after is not None:
        query["after"] = str(page.next_after)
        next_query = query.urlencode()
    rows = [(o, PersonView.of(o.person)) for o in page.items]
    return render(
        request,
        "control/order_list.html",
        {
            "filters": filters,
            "rows": rows,
            "next_query": next_query,
            "first_query": first_query,
            "export_query": _filter_query(values),
        },
    )


@login_required
@require_GET
@_domain_errors
def person_page(request: HttpRequest, person_id: int) -> HttpResponse:
    """A person's health code with the orders that make it, their orders and the trail."""
    actor = _actor(request)
    seen = selectors.person_control(scope=actor.scope, person_id=person_id)
    return render(
        request,
        "control/person.html",
        {
            "person": PersonView.of(seen.person),
            "code": seen.code,
            "orders": seen.orders,
            "events": seen.events,
            "can_issue": actor.can(Perm.CONTROL_ISSUE),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@_domain_errors
def issue(request: HttpRequest, person_id: int) -> HttpResponse:
    actor = _actor(request)
    person = selectors.control_person_get(scope=actor.scope, person_id=person_id)
    if not actor.can(Perm.CONTROL_ISSUE):
        raise NotAllowed("permission_denied", "Missing permission control.issue")
    form = IssueForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                room = (
                    selectors.room_for_order(scope=actor.scope, room_id=data["room_id"])
                    if data["room_id"]
                    else None
                )
                order = services.order_issue(
                    actor=actor,
                    person=person,
                    category=data["category"],
                    anchor=data["anchor"],
                    basis_type=data["basis_type"],
                    basis_id=data["basis_id"],
                    basis_note=data["basis_note"],
                    reason=data["reason"],
                    room=room,
                    replace_stricter=data["replace_stricter"],
                )
            except (Invalid, Conflict, NotFound) as exc:
                _form_error(form, exc)
            else:
                return redirect("control:order", order_id=order.pk)
    return render(
        request,
        "control/issue.html",
        {"person": PersonView.of(person), "form": form},
        status=status,
    )


def _render_order(
    request: HttpRequest,
    actor: Actor,
    order: ControlOrder,
    *,
    status_form: StatusForm | None = None,
    status: int = 200,
) -> HttpResponse:
    tests = list(order.tests.all())
    facts = [rules.SampleFact(t.pk, t.due_on, t.status) for t in tests]
    can_change = actor.can(Perm.CONTROL_CHANGE) and order.is_active
    return render(
        request,
        "control/order.html",
        {
            "order": order,
            "person": PersonView.of(order.person),
            "phases": rules.phases_from_json(order.phases),
            # one form per test row, each with its own element ids
            "tests": [(t, SampleResultForm(auto_id=f"id_t{t.pk}_%s")) for t in tests],
            "next_test": rules.next_test(facts),
            "blockers": rules.release_blockers(
                facts, release_on=order.release_on, today=clock.local_date()
            ),
            "events": selectors.order_events(scope=actor.scope, order=order),
            "can_change": can_change,
            "status_form": status_form or StatusForm(),
            "release_form": ReleaseForm(),
        },
        status=status,
    )


@login_required
@require_GET
@_domain_errors
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    actor = _actor(request)
    order = selectors.order_get(scope=actor.scope, order_id=order_id)
    return _render_order(request, actor, order)


@login_required
@require_POST
@_domain_errors
def order_status(request: HttpRequest, order_id: int) -> HttpResponse:
    actor = _actor(request)
    order = selectors.order_get(scope=actor.scope, order_id=order_id)
    form = StatusForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.order_change_status(
                actor=actor,
                order=order,
                to_status=data["to_status"],
                reason=data["reason"],
                basis_type=data["basis_type"],
                basis_id=data["basis_id"],
            )
        except (Invalid, Conflict) as exc:
            _form_error(form, exc)
        else:
            return redirect("control:order", order_id=order.pk)
    order = selectors.order_get(scope=actor.scope, order_id=order_id)
    return _render_order(request, actor, order, status_form=form, status=422)


@login_required
@require_POST
@_domain_errors
def order_release(request: HttpRequest, order_id: int) -> HttpResponse:
    """htmx: release, or show why not, in place of the release form."""
    actor = _actor(request)
    order = selectors.order_get(scope=actor.scope, order_id=order_id)
    form = ReleaseForm(request.POST)
    context: dict[str, Any] = {"order": order, "release_form": form, "blockers": []}
    status = 422
    if form.is_valid():
        try:
            order = services.order_release(
                actor=actor, order=order, reason=form.cleaned_data["reason"]
            )
        except Conflict as exc:
            context["blockers"] = exc.detail.get("blockers", [])
            _form_error(form, exc)
            status = 409
        except Invalid as exc:
            _form_error(form, exc)
        else:
            if not _htmx(request):
                return redirect("control:order", order_id=order.pk)
            context.update(order=order, released=True)
            status = 200
    # htmx swaps 2xx responses only: the partial carries its own error state.
    if _htmx(request):
        return render(request, "control/_release.html", context)
    return render(request, "control/release.html", context, status=status)


@login_required
@require_POST
@_domain_errors
def test_record(request: HttpRequest, test_id: int) -> HttpResponse:
    actor = _actor(request)
    test = selectors.scheduled_test_get(scope=actor.scope, test_id=test_id)
    form = SampleResultForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.scheduled_test_record(
                actor=actor,
                test=test,
                result=data["result"],
                sampled_at=data["sampled_at"],
                result_ref=data["result_ref"],
            )
        except (Invalid, Conflict) as exc:
            _form_error(form, exc)
        else:
            return redirect("control:order", order_id=test.order_id)
    return render(request, "control/test_record.html", {"test": test, "form": form}, status=422)


@login_required
@require_GET
@_domain_errors
def approvals(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    pending = selectors.change_requests_pending(scope=actor.scope)
    return render(
        request,
        "control/approvals.html",
        {
            "requests": [(r, DecideForm(auto_id=f"id_r{r.pk}_%s")) for r in pending],
            "can_approve": actor.can(Perm.CONTROL_APPROVE),
        },
    )


@login_required
@require_POST
@_domain_errors
def decide(request: HttpRequest, request_id: int) -> HttpResponse:
    actor = _actor(request)
    change = selectors.change_request_get(scope=actor.scope, request_id=request_id)
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            services.change_request_decide(
                actor=actor,
                request=change,
                approve=form.cleaned_data["approve"],
                reason=form.cleaned_data["reason"],
            )
        except (Invalid, Conflict) as exc:
            _form_error(form, exc)
        else:
            return redirect("control:approvals")
    return render(request, "control/decide.html", {"change": change, "form": form}, status=422)


@login_required
@require_GET
@_domain_errors
def tests_due(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = DayForm(request.GET)
    day = (form.cleaned_data.get("day") if form.is_valid() else None) or clock.local_date()
    tests = selectors.tests_due(scope=actor.scope, day=day)
    rows = [(t, PersonView.of(t.order.person)) for t in tests]
    return render(request, "control/tests_due.html", {"day": day, "rows": rows, "form": form})


def _filter_query(values: dict[str, Any]) -> str:
    """The list's filters (not its page) for the export link."""
    query = QueryDict(mutable=True)
    for key in ("status", "measure"):
        if values.get(key):
            query[key] = values[key]
    return query.urlencode()


def _export_filters(request: HttpRequest) -> dict[str, str | None]:
    filters = OrderFilterForm(request.GET)
    values = filters.cleaned_data if filters.is_valid() else {}
    return {"status": values.get("status") or None, "measure": values.get("measure") or None}


def _export_urls() -> dict[str, str]:
    return {f: reverse("control:export_file", args=[f]) for f in ("xlsx", "csv")}


@login_required
@require_GET
@_domain_errors
def export(request: HttpRequest) -> HttpResponse:
    """The export choice for the order list (with its filters)."""
    actor = _actor(request)
    selectors.order_list(scope=actor.scope, limit=1)  # the permission check
    return export_page(request, actor=actor, title=gettext("Control orders"), urls=_export_urls())


@login_required
@require_http_methods(["GET", "POST"])
@_domain_errors
def export_file(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """GET: the filtered order list in scope, masked. POST with a reason: full values."""
    if fmt not in ("xlsx", "csv"):
        raise Http404
    actor = _actor(request)
    selectors.order_list(scope=actor.scope, limit=1)  # permission before any work
    filters = _export_filters(request)
    paths = actor.scope.paths
    return export_view(
        request,
        actor=actor,
        name="control-orders",
        title=gettext("Control orders"),
        columns=order_columns(),
        rows=lambda: order_rows(scope=actor.scope, **filters),
        fmt=fmt,
        urls=_export_urls(),
        jurisdiction_path=paths[0] if len(paths) == 1 else "",
    )
