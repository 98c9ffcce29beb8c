"""The registry of physical places (场所). Later modules add behaviour to these rows."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.fields import EncryptedTextField
from fangkong.core.scope import path_indexes
from fangkong.jurisdictions.models import Jurisdiction


class PlaceKind(models.TextChoices):
    # key places (重点场所)
    MALL = "mall", _("Shopping mall")
    MARKET = "market", _("Market")
    RESTAURANT = "restaurant", _("Restaurant")
    PARK = "park", _("Park")
    SCENIC_SPOT = "scenic_spot", _("Scenic spot")
    CINEMA = "cinema", _("Cinema")
    KTV = "ktv", _("KTV")
    INTERNET_CAFE = "internet_cafe", _("Internet café")
    # special places (特殊场所)
    ELDERLY_CARE = "elderly_care", _("Elderly care home")
    WELFARE_HOME = "welfare_home", _("Welfare home")
    HOSPITAL = "hospital", _("Hospital")
    DETENTION = "detention", _("Detention facility")
    # religious sites (宗教场所)
    RELIGIOUS_SITE = "religious_site", _("Religious site")
    # sentinel units (哨点)
    PHARMACY = "pharmacy", _("Pharmacy")
    CLINIC = "clinic", _("Clinic")
    VILLAGE_CLINIC = "village_clinic", _("Village clinic")
    FEVER_CLINIC = "fever_clinic", _("Fever clinic")
    # operations
    SAMPLING_SITE = "sampling_site", _("Sampling site")
    QUARANTINE_FACILITY = "quarantine_facility", _("Quarantine facility")


class PlaceCategory(models.TextChoices):
    KEY_PLACE = "key_place", _("Key place")
    SPECIAL_PLACE = "special_place", _("Special place")
    RELIGIOUS_SITE = "religious_site", _("Religious site")
    SENTINEL = "sentinel", _("Sentinel unit")
    SAMPLING = "sampling", _("Sampling site")
    QUARANTINE = "quarantine", _("Quarantine facility")


CATEGORY_OF_KIND: dict[str, str] = {
    **dict.fromkeys(
        ("mall", "market", "restaurant", "park", "scenic_spot", "cinema", "ktv", "internet_cafe"),
        PlaceCategory.KEY_PLACE,
    ),
    **dict.fromkeys(
        ("elderly_care", "welfare_home", "hospital", "detention"), PlaceCategory.SPECIAL_PLACE
    ),
    "religious_site": PlaceCategory.RELIGIOUS_SITE,
    **dict.fromkeys(
        ("pharmacy", "clinic", "village_clinic", "fever_clinic"), PlaceCategory.SENTINEL
    ),
    "sampling_site": PlaceCategory.SAMPLING,
    "quarantine_facility": PlaceCategory.QUARANTINE,
}


class Place(models.Model):
    code = models.CharField(max_length=24, unique=True)  # the place code (场所码) printed on its QR
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=24, choices=PlaceKind.choices)
    category = models.CharField(max_length=16, choices=PlaceCategory.choices)
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    jurisdiction_path = models.CharField(max_length=255)
    address = models.CharField(max_length=255, blank=True)
    capacity = models.PositiveIntegerField(default=0)
    responsible_name = models.CharField(max_length=64, blank=True)
    responsible_phone = EncryptedTextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        indexes = [
            *path_indexes("place"),
            models.Index(fields=["kind", "jurisdiction_path"], name="place_kind_path_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Room(models.Model):
    """A room of a quarantine facility."""

    class Status(models.TextChoices):
        AVAILABLE = "available", _("Available")
        OCCUPIED = "occupied", _("Occupied")
        CLEANING = "cleaning", _("Being cleaned")
        OUT_OF_SERVICE = "out_of_service", _("Out of service")

    facility = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="rooms")
    jurisdiction_path = models.CharField(max_length=255)
    number = models.CharField(max_length=16)
    floor = models.SmallIntegerField(default=1)
    beds = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AVAILABLE)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "number"], name="room_facility_number_unique"
            )
        ]
        indexes = path_indexes("room")

    def __str__(self) -> str:
        return f"{self.facility.code}/{self.number}"
