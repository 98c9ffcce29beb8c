"""The operations modules' sections of the rulebook, one file per module.

Each section is optional in the YAML and has defaults, so an older edition still loads; the
module that owns a section owns its file here and its part of each edition.
"""
