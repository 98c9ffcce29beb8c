"""Forms of the place pages: input shapes only; the services decide what is valid."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.places.models import PlaceCategory, PlaceKind


class PlaceFilterForm(forms.Form):
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All")), *PlaceCategory.choices]
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All")), *PlaceKind.choices]
    )
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class PlaceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=PlaceKind.choices)
    jurisdiction = forms.CharField(
        label=_("Jurisdiction code"),
        max_length=18,
        help_text=_("The code of the grid, community or street the place belongs to."),
    )
    code = forms.CharField(
        label=_("Place code"),
        max_length=24,
        required=False,
        help_text=_("Leave empty to generate one."),
    )
    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    capacity = forms.IntegerField(label=_("Normal capacity"), min_value=0, initial=0)
    responsible_name = forms.CharField(label=_("Person in charge"), max_length=64, required=False)
    responsible_phone = forms.CharField(label=_("Phone"), max_length=20, required=False)


class RoomForm(forms.Form):
    number = forms.CharField(label=_("Room number"), max_length=16)
    floor = forms.IntegerField(label=_("Floor"), initial=1)
    beds = forms.IntegerField(label=_("Beds"), initial=1, min_value=1, max_value=20)
