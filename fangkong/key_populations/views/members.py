"""Key-population member pages: the list (overdue by district), a member's page, recording a
test, taking a member off the list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from fangkong.core.actor import Actor
from fangkong.core.errors import Conflict, Invalid
from fangkong.core.perms import Perm
from fangkong.core.web import domain_errors, form_error, request_actor
from fangkong.key_populations import selectors, services
from fangkong.key_populations.forms import (
    LeaveForm,
    MemberFilterForm,
    TestForm,
)
from fangkong.key_populations.models import Member
from fangkong.key_populations.views._common import employer_only, member_rows


@login_required
@require_GET
@domain_errors
def member_list(request: HttpRequest) -> HttpResponse:
    """The overdue (or due) list of the caller's scope, or of one district: longest first."""
    actor = request_actor(request)
    only = employer_only(actor)
    filters = MemberFilterForm(request.GET or {"status": "overdue"})
    values = filters.cleaned_data if filters.is_valid() else {}
    code = values.get("district") or ""
    district = selectors.district_get(scope=actor.scope, code=code) if code else None
    page = selectors.member_list(
        scope=actor.scope,
        only_employer=only,
        status=values.get("status") or None,
        group=values.get("group") or None,
        district=district,
        after=values.get("after") or None,
    )
    query = request.GET.copy()
    query.pop("after", None)
    if page.next_after:
        query["after"] = page.next_after
    return render(
        request,
        "key_populations/members.html",
        {
            "rows": member_rows(list(page.items)),
            "filters": filters,
            "district": district,
            "next_query": query.urlencode() if page.next_after else None,
        },
    )


@login_required
@require_GET
@domain_errors
def member_page(request: HttpRequest, member_id: int) -> HttpResponse:
    actor = request_actor(request)
    return _member_render(
        request, actor=actor, member_id=member_id, only=employer_only(actor), test_form=TestForm()
    )


def _member_render(
    request: HttpRequest,
    *,
    actor: Actor,
    member_id: int,
    only: int | None,
    test_form: TestForm,
    leave_form: LeaveForm | None = None,
    status: int = 200,
) -> HttpResponse:
    member = selectors.member_get(scope=actor.scope, only_employer=only, member_id=member_id)
    return render(
        request,
        "key_populations/member.html",
        {
            "member": member,
            "row": member_rows([member])[0],
            "tests": selectors.member_tests(scope=actor.scope, member=member),
            "test_form": test_form,
            "leave_form": leave_form or LeaveForm(),
            "may_maintain": member.active and (only is not None or actor.can(Perm.KEYPOP_MANAGE)),
        },
        status=status,
    )


def _member_post(
    request: HttpRequest,
    member_id: int,
    form: TestForm | LeaveForm,
    act: Callable[[Actor, Member, dict[str, Any]], HttpResponse],
) -> HttpResponse:
    """Validate `form`, then `act` on the member; a refusal shows the member page again with
    the form and its errors (422)."""
    actor = request_actor(request)
    only = employer_only(actor)
    member = selectors.member_get(scope=actor.scope, only_employer=only, member_id=member_id)
    if form.is_valid():
        try:
            return act(actor, member, form.cleaned_data)
        except (Invalid, Conflict) as exc:
            form_error(form, exc)
    return _member_render(
        request,
        actor=actor,
        member_id=member_id,
        only=only,
        test_form=form if isinstance(form, TestForm) else TestForm(),
        leave_form=form if isinstance(form, LeaveForm) else None,
        status=422,
    )


@login_required
@require_POST
@domain_errors
def member_test(request: HttpRequest, member_id: int) -> HttpResponse:
    def act(actor: Actor, member: Member, data: dict[str, Any]) -> HttpResponse:
        services.member_test_record(
            actor=actor, member=member, sampled_on=data["sampled_on"], reference=data["reference"]
        )
        return redirect("key_populations:member", member_id=member.pk)

    return _member_post(request, member_id, TestForm(request.POST), act)


@login_required
@require_POST
@domain_errors
def member_leave(request: HttpRequest, member_id: int) -> HttpResponse:
    def act(actor: Actor, member: Member, data: dict[str, Any]) -> HttpResponse:
        services.member_leave(actor=actor, member=member, reason=data["reason"])
        return redirect("key_populations:employer", employer_id=member.employer_id)

    return _member_post(request, member_id, LeaveForm(request.POST), act)
