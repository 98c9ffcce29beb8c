"""The person registry. Name, document number, phone and address are encrypted at rest.

Exact lookups go through keyed blind indexes (`*_bidx`), written by people.services alone.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.core.fields import EncryptedTextField
from fangkong.core.idnumbers import DocType
from fangkong.core.scope import path_indexes
from fangkong.jurisdictions.models import Jurisdiction


class Household(models.Model):
    code = models.CharField(max_length=32, unique=True)
    grid = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    jurisdiction_path = models.CharField(max_length=255)
    address = EncryptedTextField(blank=True)
    size = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = path_indexes("household")

    def __str__(self) -> str:
        return self.code


class Person(models.Model):
    class DocumentType(models.TextChoices):
        RESIDENT_ID = DocType.RESIDENT_ID.value, _("Resident ID card")
        HMT_PERMIT = DocType.HMT_PERMIT.value, _("HK/Macao/Taiwan residence permit")
        FOREIGNER_PR = DocType.FOREIGNER_PR.value, _("Foreigner permanent residence card")
        PASSPORT = DocType.PASSPORT.value, _("Passport")
        OTHER = DocType.OTHER.value, _("Other")

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")
        UNKNOWN = "U", _("Unknown")

    doc_type = models.CharField(max_length=16, choices=DocumentType.choices)
    doc_number = EncryptedTextField()
    doc_bidx = models.CharField(max_length=32)
    name = EncryptedTextField()
    name_bidx = models.CharField(max_length=32)
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = models.DateField(null=True, blank=True)
    phone = EncryptedTextField(blank=True)
    phone_bidx = models.CharField(max_length=32, blank=True)
    address = EncryptedTextField(blank=True)
    grid = models.ForeignKey(
        Jurisdiction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    jurisdiction_path = models.CharField(max_length=255)
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    # The sex or birth date entered disagrees with what the ID number carries.
    id_mismatch = models.BooleanField(default=False)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["doc_bidx"],
                condition=Q(merged_into__isnull=True),
                name="person_doc_unique_active",
            )
        ]
        indexes = [
            *path_indexes("person"),
            models.Index(fields=["doc_bidx"], name="person_doc_bidx_idx"),
            models.Index(fields=["phone_bidx"], name="person_phone_bidx_idx"),
            models.Index(fields=["name_bidx"], name="person_name_bidx_idx"),
        ]

    def __str__(self) -> str:
        return f"Person {self.pk}"


class PersonNote(models.Model):
    """A note a grid worker or officer adds to a person (home visit, call). Text is encrypted.

    `jurisdiction_path` is where the person was when the note was written; the note follows
    the person (and a merge), and is read through the person, whose scope is checked.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="notes")
    jurisdiction_path = models.CharField(max_length=255)
    text = EncryptedTextField()
    author_label = models.CharField(max_length=150)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            *path_indexes("personnote"),
            models.Index(fields=["person", "-created_at"], name="personnote_person_idx"),
        ]

    def __str__(self) -> str:
        return f"Note {self.pk} on person {self.person_id}"
