"""Arrival screening: push lists, assist requests, self-reports, canvass, verification."""
