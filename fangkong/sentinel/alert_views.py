"""The alert pages: the list, an alert with its evidence (series chart with the threshold,
the records behind the count, masked, and where those people live, by grid) and the
verification's outcome."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core.errors import Conflict, Invalid, NotAllowed
from fangkong.core.masking import mask_name
from fangkong.core.perms import Perm
from fangkong.core.web import domain_errors, request_actor
from fangkong.sentinel import selectors, services
from fangkong.sentinel.charts import series_chart
from fangkong.sentinel.models import Alert


def _after(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@login_required
@require_GET
@domain_errors
def alert_list(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    status = request.GET.get("status", "open")
    if status not in Alert.Status.values:
        status = ""
    page = selectors.alert_list(
        scope=actor.scope, status=status, after=_after(request.GET.get("after"))
    )
    return render(request, "sentinel/alerts.html", {"page": page, "status": status})


def _detail(
    request: HttpRequest, alert: Alert, *, error: str = "", status: int = 200
) -> HttpResponse:
    actor = request_actor(request)
    evidence = selectors.alert_evidence(scope=actor.scope, alert=alert)
    points = [(str(d), int(c), t) for d, c, t in alert.evidence]
    return render(
        request,
        "sentinel/alert.html",
        {
            "alert": alert,
            "chart": series_chart(points, alarm_day=alert.day.isoformat()),
            "evidence": evidence,
            "records": [(r, mask_name(r.name)) for r in evidence.records],
            "outcomes": Alert.Outcome.choices,
            "can_close": actor.can(Perm.SENTINEL_MANAGE) and alert.status == Alert.Status.OPEN,
            "error": error,
            "values": request.POST if request.method == "POST" else {},
        },
        status=status,
    )


@login_required
@require_GET
@domain_errors
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    actor = request_actor(request)
    return _detail(request, selectors.alert_get(scope=actor.scope, alert_id=alert_id))


@login_required
@require_http_methods(["POST"])
@domain_errors
def alert_close(request: HttpRequest, alert_id: int) -> HttpResponse:
    actor = request_actor(request)
    alert = selectors.alert_get(scope=actor.scope, alert_id=alert_id)
    if not actor.can(Perm.SENTINEL_MANAGE):
        raise NotAllowed("permission_denied", "Missing permission sentinel.manage")
    try:
        services.alert_close(
            actor=actor,
            alert=alert,
            outcome=request.POST.get("outcome", ""),
            reason=request.POST.get("reason", ""),
        )
    except (Invalid, Conflict) as exc:
        return _detail(request, alert, error=exc.message, status=422)
    return redirect("sentinel:alert", alert_id=alert.pk)
