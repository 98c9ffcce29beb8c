"""Sentinel surveillance: reporting units, registers, detection, alerts."""
