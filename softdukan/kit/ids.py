"""Id types for routes and bodies: positive and within a 64-bit integer, so an oversized number is a
clear 422 instead of a database overflow (a 500)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import Field

MAX_ID = 2**63 - 1

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]
