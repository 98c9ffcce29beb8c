"""Forms of the key-population pages (validation of shape only; rules are in services)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.key_populations.models import GROUP_CHOICES, STATUS_CHOICES

MAX_UPLOAD = 10 * 1024 * 1024


class EmployerForm(forms.Form):
    name = forms.CharField(label=_("Employer"), max_length=100)
    credit_code = forms.CharField(label=_("Unified social credit code"), max_length=18)
    group = forms.ChoiceField(label=_("Key-population group"), choices=GROUP_CHOICES)
    jurisdiction_code = forms.CharField(label=_("Jurisdiction code"), max_length=18)
    contact_name = forms.CharField(label=_("Contact person"), max_length=100, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=20, required=False)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Member list (xlsx or csv)"))
    replace = forms.BooleanField(
        label=_("The file is the whole list: members missing from it leave"), required=False
    )


class TestForm(forms.Form):
    sampled_on = forms.DateField(
        label=_("Sampling day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reference = forms.CharField(label=_("Reference"), max_length=64, required=False)


class LeaveForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class LinkForm(forms.Form):
    username = forms.CharField(label=_("Employer account (username)"), max_length=150)


class MemberFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All")), *STATUS_CHOICES], required=False
    )
    group = forms.ChoiceField(
        label=_("Group"), choices=[("", _("All")), *GROUP_CHOICES], required=False
    )
    district = forms.CharField(label=_("Jurisdiction code"), max_length=18, required=False)
    after = forms.CharField(required=False, widget=forms.HiddenInput)
