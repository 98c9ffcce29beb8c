"""The six-level jurisdiction tree (六级防控体系) and the posts responsible at each node."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from fangkong.core.fields import EncryptedTextField
from fangkong.core.scope import path_indexes


class Level(models.IntegerChoices):
    CITY = 1, _("City")
    DISTRICT = 2, _("District/county")
    TOWN = 3, _("Town/street")
    VILLAGE = 4, _("Village/community")
    GROUP = 5, _("Group/compound")
    GRID = 6, _("Grid")


# Code length per level: official 4-digit city prefix, 6-digit county, 9-digit town,
# 12-digit village; then our own 3 digits for the group and 3 for the grid.
CODE_LENGTH = {
    Level.CITY: 4,
    Level.DISTRICT: 6,
    Level.TOWN: 9,
    Level.VILLAGE: 12,
    Level.GROUP: 15,
    Level.GRID: 18,
}


class Jurisdiction(models.Model):
    """A node of the tree. `path` is "/<code>/<code>/.../" from the city down to this node."""

    code = models.CharField(max_length=18, unique=True)
    name = models.CharField(max_length=100)
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, unique=True)
    # Pre-aggregated: persons whose current grid is in this subtree; refreshed by
    # jurisdictions.services.population_refresh (never counted per page view).
    population = models.PositiveIntegerField(default=0)
    households = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["path"], name="jur_path_like", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["parent", "code"], name="jur_parent_code_idx"),
            models.Index(fields=["level", "path"], name="jur_level_path_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def jurisdiction_path(self) -> str:
        """A node is in scope like any other row: by its own path."""
        return self.path


class Post(models.Model):
    """A responsible person at a node (district lead, grid worker, building leader...)."""

    class Kind(models.TextChoices):
        CITY_LEAD = "city_lead", _("City command lead")
        DISTRICT_LEAD = "district_lead", _("District lead")
        TOWN_LEAD = "town_lead", _("Town lead")
        COMMUNITY_SECRETARY = "community_secretary", _("Community secretary")
        GROUP_LEADER = "group_leader", _("Group leader")
        GRID_WORKER = "grid_worker", _("Grid worker")
        BUILDING_LEADER = "building_leader", _("Building leader")

    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.CASCADE, related_name="posts")
    jurisdiction_path = models.CharField(max_length=255)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    holder_name = models.CharField(max_length=64)
    phone = EncryptedTextField(blank=True)
    is_primary = models.BooleanField(default=True)
    account_id = models.BigIntegerField(
        null=True, blank=True
    )  # accounts.User, when the holder has one

    class Meta:
        indexes = [
            *path_indexes("post"),
            models.Index(fields=["jurisdiction", "kind"], name="post_jur_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.holder_name}"
