"""The mass_testing API, mounted at /api/testing/."""

from ninja import Router

router = Router(tags=["mass_testing"])
