"""Fangkong: the epidemic prevention and control command platform."""
