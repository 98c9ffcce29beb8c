"""Pages of the place registry: list (filtered, keyset-paginated), detail, create, add room."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.core.actor import Actor
from fangkong.core.errors import DomainError, NotAllowed, NotFound
from fangkong.core.perms import Perm
from fangkong.jurisdictions.selectors import jurisdiction_get
from fangkong.places.forms import PlaceFilterForm, PlaceForm, RoomForm
from fangkong.places.models import Place
from fangkong.places.rules import has_rooms
from fangkong.places.selectors import place_get, place_list, room_list
from fangkong.places.services import place_create, room_add

PAGE_SIZE = 50


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    return actor


def _place(request: HttpRequest, place_id: int) -> Place:
    try:
        return place_get(scope=_actor(request).scope, place_id=place_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _form_error(form: PlaceForm | RoomForm, exc: DomainError) -> None:
    field = exc.detail.get("field")
    form.add_error(field if field in form.fields else None, exc.message)


@login_required
def place_list_page(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    filters = PlaceFilterForm(request.GET)
    values = filters.cleaned_data if filters.is_valid() else {}
    page = place_list(
        scope=actor.scope,
        kind=values.get("kind") or None,
        category=values.get("category") or None,
        after_id=values.get("after"),
        limit=PAGE_SIZE,
    )
    query = request.GET.copy()
    query.pop("after", None)
    first_query = query.urlencode() if values.get("after") else None
    next_query = None
    if page.next_after is not None:
        query["after"] = str(page.next_after)
        next_query = query.urlencode()
    return render(
        request,
        "places/list.html",
        {
            "filters": filters,
            "page": page,
            "next_query": next_query,
            "first_query": first_query,
            "can_write": actor.can(Perm.PLACE_WRITE),
        },
    )


@login_required
def place_detail(request: HttpRequest, place_id: int) -> HttpResponse:
    actor = _actor(request)
    place = _place(request, place_id)
    facility = has_rooms(place.kind)
    return render(
        request,
        "places/detail.html",
        {
            "place": place,
            "facility": facility,
            "rooms": list(room_list(scope=actor.scope, facility=place)) if facility else [],
            "room_form": RoomForm() if facility and actor.can(Perm.PLACE_WRITE) else None,
        },
    )


@login_required
def place_create_page(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not actor.can(Perm.PLACE_WRITE):
        raise Http404
    form = PlaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            node = jurisdiction_get(scope=actor.scope, code=data["jurisdiction"].strip())
        except NotFound:
            form.add_error("jurisdiction", _("No such jurisdiction in your area."))
        else:
            try:
                place = place_create(
                    actor=actor,
                    jurisdiction=node,
                    kind=data["kind"],
                    name=data["name"],
                    code=data["code"],
                    address=data["address"],
                    capacity=data["capacity"],
                    responsible_name=data["responsible_name"],
                    responsible_phone=data["responsible_phone"],
                )
            except DomainError as exc:
                _form_error(form, exc)
            else:
                return HttpResponseRedirect(reverse("places:detail", args=[place.pk]))
    return render(request, "places/create.html", {"form": form})


@login_required
@require_POST
def room_add_page(request: HttpRequest, place_id: int) -> HttpResponse:
    actor = _actor(request)
    place = _place(request, place_id)
    form = RoomForm(request.POST)
    if form.is_valid():
        try:
            room_add(actor=actor, facility=place, **form.cleaned_data)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            _form_error(form, exc)
        else:
            return HttpResponseRedirect(reverse("places:detail", args=[place.pk]))
    rooms = list(room_list(scope=actor.scope, facility=place))
    return render(
        request,
        "places/detail.html",
        {"place": place, "facility": True, "rooms": rooms, "room_form": form},
        status=422,
    )
