"""Forms of the person pages. They collect input; the services validate and decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.people.models import Person


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("ID number, phone or name"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )


class RegisterForm(forms.Form):
    doc_type = forms.ChoiceField(
        label=_("Document type"),
        choices=Person.DocumentType.choices,
        initial=Person.DocumentType.RESIDENT_ID,
    )
    doc_number = forms.CharField(label=_("Document number"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=100)
    sex = forms.ChoiceField(
        label=_("Sex"), choices=[("", "—"), *Person.Sex.choices], required=False
    )
    birth_date = forms.DateField(
        label=_("Birth date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    phone = forms.CharField(label=_("Mobile phone"), max_length=32, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    grid_code = forms.CharField(label=_("Grid code"), max_length=18)


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for viewing in full"),
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class MergeForm(forms.Form):
    duplicate_id = forms.IntegerField(label=_("Duplicate record id"), min_value=1)
    reason = forms.CharField(label=_("Reason"), max_length=500)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
