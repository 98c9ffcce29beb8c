"""Investigation: infectious window, co-presence windows, contact rules."""

from __future__ import annotations

from pydantic import Field, model_validator

from fangkong.policy.sections.base import Strict

# The exposure kinds an investigator records (household, workplace, ...); co-presence comes
# from the lake engine. Kept here as plain strings so the section does not import an app.
EXPOSURE_KINDS = ("household", "workplace", "venue", "vehicle", "meal", "care", "copresence")


class TracingRules(Strict):
    # The infectious window runs from N days before onset (symptomatic cases) or before
    # sampling (asymptomatic ones, or when the onset is unknown) until the case was isolated.
    infectious_days_before_onset: int = Field(default=4, ge=0, le=21)
    infectious_days_before_sampling: int = Field(default=4, ge=0, le=21)
    # Source tracing looks this many days before onset (the longest incubation counted).
    incubation_days: int = Field(default=14, ge=1, le=28)
    # Venue co-presence: another scan within this many seconds of the case's scan...
    copresence_window_seconds: int = Field(default=1800, ge=60, le=6 * 3600)
    # ...or within a longer dwell for venue kinds where people stay (restaurant, cinema...).
    venue_dwell_seconds: dict[str, int] = Field(default_factory=dict)
    # Cell-grid co-presence (时空伴随): a shared stay in one 800 m cell longer than this...
    cell_min_overlap_seconds: int = Field(default=600, ge=60, le=24 * 3600)
    # ...where the case or the person stayed in that cell longer than this in total over the
    # lookback days before the end of the case's window (None: no cumulative-stay rule).
    cell_cumulative_seconds: int | None = Field(default=30 * 3600, ge=60, le=14 * 24 * 3600)
    cell_cumulative_lookback_days: int = Field(default=14, ge=1, le=28)
    # Exposure kinds whose contacts are contacts at once (the investigator entered them);
    # every other kind (venue, co-presence) first becomes a candidate to confirm.
    direct_exposure_kinds: tuple[str, ...] = ("household", "workplace", "vehicle", "meal", "care")
    # A co-presence candidate with at least this many encounters is a contact at once
    # (0: never; every co-presence candidate waits for an investigator).
    copresence_direct_min_encounters: int = Field(default=0, ge=0, le=100)
    # Trace contacts of close contacts (secondary contacts, 次密接).
    secondary_contacts: bool = True
    # A contact is followed up for this many days after the last exposure, and counts as
    # "not followed up" after this many days without a follow-up.
    followup_days: int = Field(default=14, ge=1, le=28)
    followup_gap_days: int = Field(default=1, ge=1, le=14)
    # A transmission chain is closed when no case joined it and no contact is under
    # follow-up for this many days (two incubation periods is the usual rule).
    chain_closed_after_days: int = Field(default=28, ge=1, le=90)

    @model_validator(mode="after")
    def _known_kinds(self) -> TracingRules:
        unknown = set(self.direct_exposure_kinds) - set(EXPOSURE_KINDS)
        if unknown:
            raise ValueError(f"unknown exposure kinds: {', '.join(sorted(unknown))}")
        if any(v < 60 or v > 24 * 3600 for v in self.venue_dwell_seconds.values()):
            raise ValueError("venue dwell must lie between 60 seconds and a day")
        if (
            self.cell_cumulative_seconds is not None
            and self.cell_cumulative_seconds < self.cell_min_overlap_seconds
        ):
            raise ValueError("cell_cumulative_seconds must be at least cell_min_overlap_seconds")
        return self
