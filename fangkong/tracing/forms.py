"""Forms of the tracing pages. They parse input only; tracing.services decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.tracing.models import CONTACT_STATUS_CHOICES, EXPOSURE_CHOICES

_BLANK = [("", "—")]
_DT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
_DT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[*_BLANK, ("open", _("Open")), ("closed", _("Closed"))],
    )
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class StepForm(forms.Form):
    step = forms.ChoiceField(
        choices=[
            ("first_report", _("First investigation report")),
            ("contact_list", _("Contact list")),
            ("full_report", _("Full investigation report")),
        ],
        widget=forms.HiddenInput,
    )
    report = forms.CharField(
        label=_("Report"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class TrajectoryForm(forms.Form):
    place = forms.CharField(label=_("Place"), max_length=300)
    started_at = forms.DateTimeField(label=_("From"), widget=_DT, input_formats=_DT_FORMATS)
    ended_at = forms.DateTimeField(
        label=_("Until"), required=False, widget=_DT, input_formats=_DT_FORMATS
    )


class RunForm(forms.Form):
    degree = forms.TypedChoiceField(
        label=_("Degree"),
        coerce=int,
        choices=[(1, _("The case")), (2, _("Its close contacts (secondary)"))],
    )


class ContactFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[*_BLANK, *CONTACT_STATUS_CHOICES]
    )
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class ContactAddForm(forms.Form):
    doc_number = forms.CharField(label=_("ID document number"), max_length=40)
    exposure = forms.ChoiceField(label=_("Exposure"), choices=EXPOSURE_CHOICES)
    first_exposure_at = forms.DateTimeField(
        label=_("First exposure"), widget=_DT, input_formats=_DT_FORMATS
    )
    last_exposure_at = forms.DateTimeField(
        label=_("Last exposure"), required=False, widget=_DT, input_formats=_DT_FORMATS
    )
    general = forms.BooleanField(label=_("General contact only"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class BulkForm(forms.Form):
    contact_ids = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    reason = forms.CharField(label=_("Reason"), max_length=500)
    category = forms.ChoiceField(
        label=_("Confirm as"),
        required=False,
        choices=[
            ("", _("As found")),
            ("close", _("Close contact")),
            ("copresence", _("Co-presence contact")),
            ("general", _("General contact")),
        ],
    )

    def __init__(self, *args: object, ids: list[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["contact_ids"].choices = [(i, str(i)) for i in ids]  # type: ignore[attr-defined]


class KpiForm(forms.Form):
    days = forms.IntegerField(label=_("Days"), required=False, min_value=1, max_value=365)


class ClusterOpenForm(forms.Form):
    name = forms.CharField(label=_("Cluster name"), max_length=120)
    reason = forms.CharField(label=_("Reason"), max_length=500)


class ClusterJoinForm(forms.Form):
    cluster_id = forms.IntegerField(label=_("Cluster"), min_value=1)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)
