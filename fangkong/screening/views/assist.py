"""Assist requests (inbox, outbox, detail with the clock and each person's outcome, send,
acknowledge) and the public self-report page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fangkong.core import clock
from fangkong.core.errors import Invalid, NotAllowed
from fangkong.core.masking import mask_name
from fangkong.core.web import domain_errors, form_error, request_actor
from fangkong.jurisdictions.models import Jurisdiction
from fangkong.screening import selectors, services
from fangkong.screening.forms import AssistForm, PersonForm


@login_required
@require_GET
@domain_errors
def assist_list(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    return render(
        request,
        "screening/assist_list.html",
        {
            "inbox": selectors.assist_list(scope=actor.scope, box="inbox"),
            "outbox": selectors.assist_list(scope=actor.scope, box="outbox"),
            "now": clock.now(),
        },
    )


@login_required
@require_GET
@domain_errors
def assist_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    actor = request_actor(request)
    found = selectors.assist_get(scope=actor.scope, request_id=request_id)
    items = selectors.assist_items(scope=actor.scope, request=found)
    return render(
        request,
        "screening/assist.html",
        {
            "r": found,
            "items": [(i, mask_name(i.arrival.name)) for i in items],
            "receiver": actor.scope.covers(found.jurisdiction_path),
            "now": clock.now(),
        },
    )


@login_required
@require_POST
@domain_errors
def assist_ack(request: HttpRequest, request_id: int) -> HttpResponseBase:
    actor = request_actor(request)
    found = selectors.assist_get(scope=actor.scope, request_id=request_id)
    services.assist_request_acknowledge(actor=actor, request=found)
    messages.success(request, gettext("Acknowledged."))
    return redirect("screening:assist", request_id=request_id)


@login_required
@require_http_methods(["GET", "POST"])
@domain_errors
def assist_send(request: HttpRequest) -> HttpResponseBase:
    actor = request_actor(request)
    selectors.assist_list(scope=actor.scope, limit=1)  # screening.view
    form = AssistForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        persons = []
        for line in str(form.cleaned_data["persons"]).splitlines():
            parts = [p.strip() for p in line.replace("，", ",").split(",")]
            if len(parts) >= 2 and parts[0]:
                parts += [""] * (4 - len(parts))
                persons.append(
                    services.AssistPerson(
                        name=parts[0],
                        doc_type="resident_id",
                        doc_number=parts[1],
                        phone=parts[2],
                        address=parts[3],
                    )
                )
        try:
            sent = services.assist_request_send(
                actor,
                to_code=form.cleaned_data["to_code"],
                persons=persons,
                reason=form.cleaned_data["reason"],
                basis_type="letter",
                basis_id=form.cleaned_data["basis_id"],
            )
        except Invalid as exc:
            form_error(form, exc)
        else:
            return redirect("screening:assist", request_id=sent.pk)
    return render(
        request, "screening/assist_send.html", {"form": form}, status=422 if form.errors else 200
    )


def _client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: a header the client writes (X-Forwarded-For) would let anyone
    # choose their own rate-limit bucket. Behind a proxy, the proxy sets REMOTE_ADDR.
    return str(request.META.get("REMOTE_ADDR", ""))


@csrf_protect
@require_http_methods(["GET", "POST"])
def self_report(request: HttpRequest) -> HttpResponse:
    """主动报备: public, no account; rate-limited per address; makes the same arrival."""
    form = PersonForm(request.POST or None)
    done = False
    status = 200
    if request.method == "POST":
        if form.is_valid():
            root = Jurisdiction.objects.filter(parent__isnull=True).order_by("code").first()
            try:
                if root is None:
                    raise Invalid("screening.no_city", "Self-reports are not open yet")
                entry = services.entry_of(**form.cleaned_data)
                services.self_report_submit(entry=entry, root=root, ip=_client_ip(request))
            except NotAllowed as exc:
                form.add_error(None, gettext(exc.message))
                status = 429
            except Invalid as exc:
                form_error(form, exc)
                status = 422
            else:
                done = True
        else:
            status = 422
    return render(
        request, "screening/self_report.html", {"form": form, "done": done}, status=status
    )
