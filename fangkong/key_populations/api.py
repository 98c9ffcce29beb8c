"""The key_populations API, mounted at /api/keypop/."""

from ninja import Router

router = Router(tags=["key_populations"])
