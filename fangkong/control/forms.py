"""Forms of the control pages. They parse input only; control.services decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.control.models import CATEGORY_CHOICES, MEASURE_CHOICES, Basis, OrderStatus
from fangkong.control.rules import MANUAL_TARGETS

_BLANK = [("", "—")]


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[*_BLANK, ("active", _("Active")), *OrderStatus.choices],
    )
    measure = forms.ChoiceField(
        label=_("Measure"), required=False, choices=[*_BLANK, *MEASURE_CHOICES]
    )
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class IssueForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=CATEGORY_CHOICES)
    anchor = forms.DateField(
        label=_("Date the measure counts from"),
        help_text=_("Last exposure, departure from the risk area, arrival or identification"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    basis_type = forms.ChoiceField(label=_("Basis"), choices=Basis.choices)
    basis_id = forms.CharField(label=_("Basis reference"), max_length=64, required=False)
    basis_note = forms.CharField(label=_("Basis note"), max_length=500, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=500)
    room_id = forms.IntegerField(label=_("Facility room id"), required=False, min_value=1)
    replace_stricter = forms.BooleanField(
        label=_("Replace a stricter order (needs a second approver)"), required=False
    )


class StatusForm(forms.Form):
    to_status = forms.ChoiceField(
        label=_("New status"),
        choices=[(value, label) for value, label in OrderStatus.choices if value in MANUAL_TARGETS],
    )
    basis_type = forms.ChoiceField(label=_("Basis"), choices=Basis.choices)
    basis_id = forms.CharField(label=_("Basis reference"), max_length=64, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=500)


class ReleaseForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class SampleResultForm(forms.Form):
    result = forms.ChoiceField(
        label=_("Result"), choices=[("negative", _("Negative")), ("positive", _("Positive"))]
    )
    sampled_at = forms.DateTimeField(
        label=_("Sampled at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    result_ref = forms.CharField(label=_("Tube or report number"), max_length=64, required=False)


class DecideForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Approve")), ("0", _("Reject"))],
        coerce=lambda v: v == "1",
    )
    reason = forms.CharField(label=_("Reason"), max_length=500)


class DayForm(forms.Form):
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
