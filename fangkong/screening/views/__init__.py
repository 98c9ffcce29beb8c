"""Screening pages: thin adapters over screening.services and selectors (see the modules)."""
