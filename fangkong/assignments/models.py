"""Work items (任务): a duty at a jurisdiction node, its responsible post, deadline and outcome.

Rows are written by `assignments.services` alone (and by `escalation` for the overdue pass);
`AssignmentTally` is the per-node counter the boards read instead of counting a million rows.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fangkong.core.scope import path_indexes
from fangkong.jurisdictions.models import Jurisdiction, Post
from fangkong.people.models import Person


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    REJECTED = "rejected", _("Rejected")
    REASSIGNED = "reassigned", _("Reassigned")


ACTIVE_STATUSES = (Status.OPEN, Status.IN_PROGRESS)
# "Active" is spelt `closed_at IS NULL` in queries: it is what the partial indexes are built on
# (a plain IS NULL term is one both SQLite and PostgreSQL match against an index predicate).
ACTIVE = Q(closed_at__isnull=True)


class Assignment(models.Model):
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    subject_type = models.CharField(max_length=32)
    subject_id = models.CharField(max_length=64)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # No index on the three foreign keys below that nothing reads by (the node and holder are
    # read by their paths): every index is written again for each of the hundreds of thousands
    # of rows an escalation pass can move.
    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    jurisdiction_path = models.CharField(max_length=255)
    jurisdiction_level = models.PositiveSmallIntegerField()
    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    due_at = models.DateTimeField()
    # 0 on time; 1 once overdue (held by the parent node); +1 per further escalation interval,
    # capped where the holder reaches the city. `escalated_to` is the current holder node.
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escalated_to = models.ForeignKey(
        Jurisdiction,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    escalated_path = models.CharField(max_length=255, blank=True, default="")
    escalated_at = models.DateTimeField(null=True, blank=True)  # the last pass that moved it
    overdue_since = models.DateTimeField(null=True, blank=True)  # the pass that first moved it
    outcome = models.TextField(blank=True, default="")
    reason = models.TextField(blank=True, default="")
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    # NULL, not "", for "no key": the unique constraint below leaves NULLs out.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    reassigned_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            # A constraint rather than unique=True: no second (LIKE) index on PostgreSQL, and
            # no entries for the many items without a key.
            models.UniqueConstraint(
                fields=["dedupe_key"],
                name="asg_dedupe_key_uniq",
                condition=Q(dedupe_key__isnull=False),
            )
        ]
        indexes = [
            *path_indexes("assignment"),
            # Inbox and overdue lists: a subtree's active work by deadline, and the deadline
            # order filtered by subtree (the planner picks by the subtree's size).
            models.Index(
                fields=["jurisdiction_path", "due_at", "id"],
                name="asg_active_path_due_idx",
                condition=ACTIVE,
            ),
            models.Index(
                fields=["due_at", "jurisdiction_path"],
                name="asg_active_due_idx",
                condition=ACTIVE,
            ),
            # Not yet escalated: the board's "due soon" and "overdue since the last pass".
            # The level leads although the condition fixes it: SQLite's planner then sees an
            # equality and a range, and picks this index over asg_active_due_idx (which also
            # holds the escalated items and needs table reads for kind and level).
            models.Index(
                fields=["escalation_level", "due_at", "jurisdiction_path", "kind"],
                name="asg_level0_due_idx",
                condition=Q(closed_at__isnull=True, escalation_level=0),
            ),
            # The escalation pass: per tree level, a deadline window, checking the stored
            # level from the index alone (a pass that moves nothing reads no table rows).
            models.Index(
                fields=["jurisdiction_level", "due_at", "escalation_level"],
                name="asg_escalation_idx",
                condition=ACTIVE,
            ),
            models.Index(
                fields=["escalated_path", "due_at"],
                name="asg_active_holder_idx",
                condition=ACTIVE,
            ),
            models.Index(
                fields=["closed_at", "jurisdiction_path", "kind"],
                name="asg_done_closed_idx",
                condition=Q(status="done"),
            ),
            models.Index(
                fields=["escalated_at"],
                name="asg_escalated_at_idx",
                condition=Q(escalated_at__isnull=False),
            ),
            models.Index(fields=["subject_type", "subject_id"], name="asg_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"Assignment {self.pk} ({self.kind})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def holder_id(self) -> int:
        """The node currently holding the work: where it escalated to, else its own node."""
        return self.escalated_to_id or self.jurisdiction_id


class AssignmentEvent(models.Model):
    """The history of one assignment: creation, status changes, escalation steps."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        STARTED = "started", _("Started")
        COMPLETED = "completed", _("Completed")
        REJECTED = "rejected", _("Rejected")
        REASSIGNED = "reassigned", _("Reassigned")
        CLOSED = "closed", _("Closed by another record")
        ESCALATED = "escalated", _("Escalated")

    # Not indexed alone: `asgevent_asg_at_idx` leads with it.
    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    at = models.DateTimeField()
    action = models.CharField(max_length=16, choices=Action.choices)
    actor_label = models.CharField(max_length=150)
    from_status = models.CharField(max_length=16, blank=True, default="")
    to_status = models.CharField(max_length=16, blank=True, default="")
    note = models.TextField(blank=True, default="")
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["assignment", "at"], name="asgevent_asg_at_idx")]

    def __str__(self) -> str:
        return f"{self.action} on {self.assignment_id}"


class AssignmentTally(models.Model):
    """Active work per node (the node's whole subtree) and kind, kept by every write.

    `overdue` counts active items already escalated (level >= 1); items that fell due since
    the last escalation pass are counted live from `asg_level0_due_idx`, so the board's figure
    is exact. `tally.rebuild` recomputes the table set-based after bulk loads.
    """

    node_path = models.CharField(max_length=255)
    parent_path = models.CharField(max_length=255)
    kind = models.CharField(max_length=40)
    active = models.IntegerField(default=0)
    in_progress = models.IntegerField(default=0)
    overdue = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["node_path", "kind"], name="asgtally_node_kind_uniq")
        ]
        indexes = [models.Index(fields=["parent_path", "kind"], name="asgtally_parent_idx")]

    def __str__(self) -> str:
        return f"{self.node_path} {self.kind}: {self.active}"


class AssignmentDayTally(models.Model):
    """Work completed (status done) per node (the node's whole subtree), kind and city day.

    The board's "done today" reads one row per kind for the node and its children instead of
    counting the day's completions. Completed work never reopens, so rows only grow; they are
    written with the completion, in its transaction, and `tally.rebuild` recomputes them.
    """

    node_path = models.CharField(max_length=255)
    parent_path = models.CharField(max_length=255)
    kind = models.CharField(max_length=40)
    day = models.DateField()  # the local (city) date of `closed_at`
    done = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["node_path", "day", "kind"], name="asgdaytally_node_day_kind_uniq"
            )
        ]
        indexes = [models.Index(fields=["parent_path", "day"], name="asgdaytally_parent_day_idx")]

    def __str__(self) -> str:
        return f"{self.node_path} {self.day} {self.kind}: {self.done}"
