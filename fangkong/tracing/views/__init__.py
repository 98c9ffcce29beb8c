"""Investigator pages (desktop): case list, case detail with the investigation's clocks and
trajectory, contacts with bulk confirmation, clusters with the transmission graph and the
epidemic curve, the KPI board. Thin adapters over tracing.services and selectors.

Persons appear masked. NotFound becomes 404 and NotAllowed 403 in `domain_errors`; Invalid
and Conflict go back to the page that caused them as a message.
"""
