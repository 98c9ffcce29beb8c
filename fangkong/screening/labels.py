"""Display labels of the board's figures (translated; the keys stay English)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

KEY_LABELS: dict[str, Promise] = {
    "received": _("Received"),
    "open": _("To verify"),
    "verified": _("Verified"),
    "not_reached": _("Not reached"),
    "under_control": _("Under control"),
    "sampled": _("Sampled"),
    "duplicates": _("On several lists"),
    "not_in_city": _("Not in this city"),
    "unplaced": _("Address not placed"),
    "transferred": _("Transferred"),
    "overdue": _("Overdue"),
    "stale": _("Unverified over 24 h"),
}
