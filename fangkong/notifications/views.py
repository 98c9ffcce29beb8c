"""Pages: the signed-in user's notifications, marking them read, and the unread badge."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from fangkong.core.actor import Actor
from fangkong.core.errors import NotFound
from fangkong.notifications.selectors import notification_get, notification_list, unread_count
from fangkong.notifications.services import notification_mark_all_read, notification_mark_read

PAGE_SIZE = 50


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    return actor


def _user_id(request: HttpRequest) -> int:
    user_id = _actor(request).id
    assert user_id is not None  # login_required: a staff account
    return user_id


@login_required
@require_GET
def notification_page(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    items = list(
        notification_list(user_id=_user_id(request), unread_only=unread_only, limit=PAGE_SIZE)
    )
    return render(
        request,
        "notifications/list.html",
        {"items": items, "unread_only": unread_only, "page_size": PAGE_SIZE},
    )


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    """Mark the chosen notifications (or, with all=1, every one) read. Others' ids are ignored."""
    if request.POST.get("all") == "1":
        notification_mark_all_read(actor=_actor(request))
    else:
        ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()]
        notification_mark_read(actor=_actor(request), notification_ids=ids)
    if request.htmx:  # type: ignore[attr-defined]
        items = list(notification_list(user_id=_user_id(request), limit=PAGE_SIZE))
        return render(request, "notifications/_items.html", {"items": items})
    return redirect("notifications:list")


@login_required
@require_GET
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Follow a notification's link and mark it read. 404 for another user's notification."""
    try:
        item = notification_get(user_id=_user_id(request), notification_id=notification_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    notification_mark_read(actor=_actor(request), notification_ids=[item.pk])
    # Links are paths inside Fangkong; anything else goes back to the list.
    if item.link and url_has_allowed_host_and_scheme(
        item.link, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(item.link)
    return redirect("notifications:list")


@login_required
@require_GET
def badge(request: HttpRequest) -> HttpResponse:
    """The htmx partial for the top bar: the unread count, empty when there is none."""
    count = unread_count(user_id=_user_id(request))
    return render(
        request,
        "notifications/_badge.html",
        {"count": count, "list_url": reverse("notifications:list")},
    )
