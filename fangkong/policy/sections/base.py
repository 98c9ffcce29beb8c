from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A rulebook part: unknown keys are errors, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)
