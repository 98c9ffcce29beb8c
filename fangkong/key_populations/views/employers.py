"""Key-population pages for staff and employers: the board, employer lists and pages, member-list
import with its error report, export, account links."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.accounts.models import User
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.core.perms import Perm
from fangkong.core.web import domain_errors, form_error, request_actor
from fangkong.exports.http import export_rows
from fangkong.exports.services import Column
from fangkong.key_populations import access, selectors, services
from fangkong.key_populations.forms import (
    EmployerForm,
    ImportForm,
    LinkForm,
    MemberFilterForm,
)
from fangkong.key_populations.imports import member_import
from fangkong.key_populations.models import GROUP_LABELS, MemberImport
from fangkong.key_populations.views._common import employer_only, member_rows
from fangkong.policy.sections.key_populations import GroupKind


@login_required
@require_GET
@domain_errors
def board(request: HttpRequest) -> HttpResponseBase:
    """Staff: districts and the employers with overdue members. An employer: its own page."""
    actor = request_actor(request)
    only = employer_only(actor)
    if only is not None:
        employer = selectors.employer_get(scope=actor.scope, only_employer=only, employer_id=only)
        return redirect("key_populations:employer", employer_id=employer.pk)
    districts = selectors.district_board(scope=actor.scope, only_employer=None)
    overdue = selectors.employer_list(
        scope=actor.scope, only_employer=None, overdue_only=True, limit=20
    )
    totals = {
        "members": sum(d.members for d in districts),
        "due": sum(d.due for d in districts),
        "overdue": sum(d.overdue for d in districts),
        "employers": sum(d.employers for d in districts),
    }
    return render(
        request,
        "key_populations/board.html",
        {"districts": districts, "employers": overdue.items, "totals": totals},
    )


@login_required
@require_GET
@domain_errors
def employer_list(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    after = request.GET.get("after", "")
    page = selectors.employer_list(
        scope=actor.scope,
        only_employer=employer_only(actor),
        overdue_only=request.GET.get("overdue") == "1",
        after=int(after) if after.isdigit() else None,
    )
    return render(
        request,
        "key_populations/employers.html",
        {
            "employers": page.items,
            "next_after": page.next_after,
            "can_manage": actor.can(Perm.KEYPOP_MANAGE) and access.own_employer(actor) is None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def employer_new(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    access.require_staff_manage(actor)
    form = EmployerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            node = selectors.district_get(scope=actor.scope, code=data["jurisdiction_code"])
            employer = services.employer_create(
                actor=actor,
                name=data["name"],
                credit_code=data["credit_code"],
                group=data["group"],
                jurisdiction=node,
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
            )
        except NotFound as exc:
            form.add_error("jurisdiction_code", exc.message)
        except (Invalid, Conflict) as exc:
            form_error(form, exc)
        else:
            return redirect("key_populations:employer", employer_id=employer.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "key_populations/employer_new.html", {"form": form}, status=status)


@login_required
@require_GET
@domain_errors
def employer_page(request: HttpRequest, employer_id: int) -> HttpResponse:
    """An employer's list (the employer's own view, and staff's): overdue first."""
    actor = request_actor(request)
    only = employer_only(actor)
    employer = selectors.employer_get(
        scope=actor.scope, only_employer=only, employer_id=employer_id
    )
    filters = MemberFilterForm(request.GET)
    values = filters.cleaned_data if filters.is_valid() else {}
    page = selectors.member_list(
        scope=actor.scope,
        only_employer=only,
        employer_id=employer.pk,
        status=values.get("status") or None,
        group=values.get("group") or None,
        after=values.get("after") or None,
    )
    query = request.GET.copy()
    query.pop("after", None)
    if page.next_after:
        query["after"] = page.next_after
    may_maintain = only is not None or actor.can(Perm.KEYPOP_MANAGE)
    return render(
        request,
        "key_populations/employer.html",
        {
            "employer": employer,
            "group_label": GROUP_LABELS.get(GroupKind(employer.group_kind), ""),
            "rows": member_rows(list(page.items)),
            "filters": filters,
            "next_query": query.urlencode() if page.next_after else None,
            "imports": selectors.import_list(
                scope=actor.scope, only_employer=only, employer=employer, limit=5
            ),
            "may_maintain": may_maintain,
            "is_employer": only is not None,
            "accounts": selectors.employer_accounts(scope=actor.scope, employer=employer)
            if only is None
            else [],
            "link_form": LinkForm() if only is None and actor.can(Perm.KEYPOP_MANAGE) else None,
            "status_param": values.get("status") or "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def employer_import(request: HttpRequest, employer_id: int) -> HttpResponse:
    actor = request_actor(request)
    only = employer_only(actor)
    employer = selectors.employer_get(
        scope=actor.scope, only_employer=only, employer_id=employer_id
    )
    access.require_maintain(actor, employer.pk)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            attempt = member_import(
                actor=actor,
                employer=employer,
                data=upload,
                filename=upload.name or "",
                replace=form.cleaned_data["replace"],
            )
        except (Invalid, Conflict) as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("key_populations:import", import_id=attempt.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "key_populations/import_new.html",
        {"employer": employer, "form": form, "columns": _IMPORT_COLUMNS},
        status=status,
    )


_IMPORT_COLUMNS = [
    ("姓名", gettext_lazy("required")),
    ("证件号码", gettext_lazy("required; a resident ID unless 证件类型 says otherwise")),
    ("证件类型", gettext_lazy("optional")),
    ("手机号", gettext_lazy("optional")),
    ("人群类别", gettext_lazy("optional; the employer's group when empty")),
    ("居住网格编码", gettext_lazy("optional; the grid where the person lives (18 digits)")),
    ("采样日期", gettext_lazy("optional; a sampling the employer organised, YYYY-MM-DD")),
]


@login_required
@require_GET
@domain_errors
def import_page(request: HttpRequest, import_id: int) -> HttpResponse:
    actor = request_actor(request)
    attempt = selectors.import_get(
        scope=actor.scope, only_employer=employer_only(actor), import_id=import_id
    )
    return render(
        request,
        "key_populations/import.html",
        {"attempt": attempt, "errors": attempt.errors[:200], "done": attempt.outcome == "done"},
    )


@login_required
@require_GET
@domain_errors
def import_errors(request: HttpRequest, import_id: int) -> HttpResponseBase:
    """The import's problems as an xlsx (row, column, reason), through the audited export."""
    actor = request_actor(request)
    attempt: MemberImport = selectors.import_get(
        scope=actor.scope, only_employer=employer_only(actor), import_id=import_id
    )
    return export_rows(
        actor=actor,
        name="keypop.import_errors",
        title=gettext("Member list problems"),
        columns=[Column(gettext("Row")), Column(gettext("Column")), Column(gettext("Reason"))],
        rows=([r, c, reason] for r, c, reason in attempt.errors),
        fmt="xlsx",
        jurisdiction_path=attempt.jurisdiction_path,
    )


@login_required
@require_GET
@domain_errors
def employer_export(request: HttpRequest, employer_id: int, fmt: str) -> HttpResponseBase:
    """The employer's list (masked) as xlsx or csv, e.g. its overdue list for the employer."""
    actor = request_actor(request)
    only = employer_only(actor)
    employer = selectors.employer_get(
        scope=actor.scope, only_employer=only, employer_id=employer_id
    )
    status = request.GET.get("status") or None

    def rows() -> object:
        after = None
        while True:
            page = selectors.member_list(
                scope=actor.scope,
                only_employer=only,
                employer_id=employer.pk,
                status=status,
                after=after,
                limit=selectors.MAX_LIMIT,
            )
            for r in member_rows(list(page.items)):
                yield [
                    r["person_name"],
                    r["doc_number"],
                    str(r["group_label"]),
                    r["last_tested_on"],
                    r["next_due_on"],
                    r["status"],
                    r["days_overdue"],
                ]
            if page.next_after is None:
                return
            after = page.next_after

    return export_rows(
        actor=actor,
        name="keypop.members",
        title=f"{employer.name} · {gettext('Key-population members')}",
        columns=[
            Column(gettext("Name")),
            Column(gettext("Document number")),
            Column(gettext("Group")),
            Column(gettext("Last tested")),
            Column(gettext("Next due")),
            Column(gettext("Status")),
            Column(gettext("Days overdue")),
        ],
        rows=rows(),  # type: ignore[arg-type]
        fmt=fmt,
        jurisdiction_path=employer.jurisdiction_path,
    )


@login_required
@require_POST
@domain_errors
def employer_link(request: HttpRequest, employer_id: int) -> HttpResponse:
    actor = request_actor(request)
    employer = selectors.employer_get(
        scope=actor.scope, only_employer=employer_only(actor), employer_id=employer_id
    )
    access.require_staff_manage(actor)
    form = LinkForm(request.POST)
    if form.is_valid():
        user = User.objects.filter(username=form.cleaned_data["username"]).first()
        try:
            if user is None:
                raise Invalid(
                    "keypop.account_unknown", gettext("No such account"), field="username"
                )
            services.employer_account_link(actor=actor, employer=employer, user=user)
        except Invalid as exc:
            form_error(form, exc)
        else:
            return redirect("key_populations:employer", employer_id=employer.pk)
    return render(
        request,
        "key_populations/link.html",
        {"employer": employer, "form": form},
        status=422,
    )
