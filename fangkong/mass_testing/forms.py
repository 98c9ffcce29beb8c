"""Forms of the mass-testing pages. They parse input only; mass_testing.services decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.mass_testing.models import Excusal
from fangkong.policy.sections.mass_testing import AreaType

AREA_CHOICES = [
    (AreaType.GENERAL.value, _("General (pooled)")),
    (AreaType.DELIMITED.value, _("Delimited area (smaller pools)")),
    (AreaType.SEALED_COMPOUND.value, _("Sealed compound (one tube per household)")),
    (AreaType.ISOLATION_SITE.value, _("Isolation site (single tubes)")),
    (AreaType.KEY_GROUP.value, _("Key group (single tubes)")),
]


class RoundForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    node_code = forms.CharField(label=_("Area (jurisdiction code)"), max_length=18)
    area_type = forms.ChoiceField(label=_("Area type"), choices=AREA_CHOICES)
    starts_at = forms.DateTimeField(
        label=_("Starts at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    deadline = forms.DateTimeField(
        label=_("Deadline (empty: the rulebook's default)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class SiteForm(forms.Form):
    name = forms.CharField(label=_("Site name"), max_length=100)
    node_code = forms.CharField(label=_("Node (jurisdiction code)"), max_length=18)
    opens_at = forms.DateTimeField(
        label=_("Opens at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    closes_at = forms.DateTimeField(
        label=_("Closes at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    samplers = forms.IntegerField(label=_("Samplers"), min_value=1, max_value=500)


class ExcusalForm(forms.Form):
    person_id = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = forms.ChoiceField(label=_("Reason"), choices=Excusal.Reason.choices)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class ResultUploadForm(forms.Form):
    lab = forms.CharField(label=_("Laboratory"), max_length=100)
    file = forms.FileField(label=_("Result file (csv or xlsx)"))


class RetestForm(forms.Form):
    result = forms.ChoiceField(
        label=_("Result"), choices=[("negative", _("Negative")), ("positive", _("Positive"))]
    )
    sampled_at = forms.DateTimeField(
        label=_("Sampled at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    barcode = forms.CharField(label=_("Single-tube barcode"), max_length=40, required=False)
