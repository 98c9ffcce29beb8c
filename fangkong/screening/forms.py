"""Forms of the screening pages. They parse input only; screening.services decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core.idnumbers import DocType
from fangkong.screening.models import NotReachedReason, ReturneeClass, SourceKind

_BLANK = [("", "—")]
_DOC_TYPES = [
    (DocType.RESIDENT_ID.value, _("Resident ID card")),
    (DocType.PASSPORT.value, _("Passport")),
    (DocType.HMT_PERMIT.value, _("HK/Macao/Taiwan residence permit")),
    (DocType.FOREIGNER_PR.value, _("Foreigner permanent residence card")),
]


class PersonForm(forms.Form):
    """Identity, phone, origin and route, arrival date, where the person stays."""

    name = forms.CharField(label=_("Name"), max_length=100)
    doc_type = forms.ChoiceField(label=_("Document type"), choices=_DOC_TYPES)
    doc_number = forms.CharField(label=_("Document number"), max_length=40)
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    origin = forms.CharField(label=_("Coming from"), max_length=200)
    route = forms.CharField(label=_("Places passed through"), max_length=500, required=False)
    arrival_date = forms.DateField(
        label=_("Arrival date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    address = forms.CharField(label=_("Where you stay (address)"), max_length=300)
    returnee_class = forms.ChoiceField(
        label=_("Returnee class"), choices=ReturneeClass.choices, initial=ReturneeClass.OTHER
    )


class CanvassForm(PersonForm):
    phone = forms.CharField(label=_("Mobile phone"), max_length=20, required=False)
    origin = forms.CharField(label=_("Coming from"), max_length=200, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)


class VerifyForm(forms.Form):
    reached = forms.TypedChoiceField(
        label=_("Reached"),
        choices=[("1", _("Reached")), ("0", _("Not reached"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    reason = forms.ChoiceField(
        label=_("Why not reached"), choices=[*_BLANK, *NotReachedReason.choices], required=False
    )
    confirmed_address = forms.CharField(
        label=_("Confirmed address"), max_length=300, required=False
    )
    sample_ref = forms.CharField(label=_("Sample (tube barcode)"), max_length=64, required=False)
    apply_measure = forms.BooleanField(label=_("Apply the rulebook's measure"), required=False)
    stays_in = forms.CharField(
        label=_("Stays in another district (code)"), max_length=18, required=False
    )
    notes = forms.CharField(
        label=_("Notes"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class PlaceForm(forms.Form):
    grid_code = forms.CharField(label=_("Grid code"), max_length=18)


class UploadForm(forms.Form):
    source_name = forms.CharField(label=_("Source"), max_length=100)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(k, v) for k, v in SourceKind.choices if k not in ("self_report", "canvass")],
    )
    file = forms.FileField(label=_("File (xlsx or csv)"))


class MappingForm(forms.Form):
    source_name = forms.CharField(label=_("Source"), max_length=100)
    lines = forms.CharField(
        label=_("Header = field, one per line"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Fields: name, doc_number, doc_type, phone, origin, route, arrival_date, address, returnee_class"
        ),
    )

    def mapping(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for line in str(self.cleaned_data["lines"]).splitlines():
            header, sep, field = line.partition("=")
            if sep and header.strip():
                out[header.strip()] = field.strip()
        return out


class AssistForm(forms.Form):
    to_code = forms.CharField(label=_("To district or town (code)"), max_length=18)
    reason = forms.CharField(label=_("Reason"), max_length=500)
    basis_id = forms.CharField(label=_("Reference (letter number)"), max_length=64)
    persons = forms.CharField(
        label=_("Persons: name, ID number, phone, address, one per line"),
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class ListForm(forms.Form):
    node = forms.CharField(required=False, max_length=18)
    key = forms.CharField(required=False, max_length=16)
    after = forms.CharField(required=False, max_length=80)
