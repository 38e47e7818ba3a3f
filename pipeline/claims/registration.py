"""Pre-registration: what a verdict was decided on, recorded with it.

A verdict is only as good as the choices made before the data were seen. Each one records
the claims file's SHA-256 (so an edited window or margin shows), the windows it compared,
the reference period, the instrument references its rows were measured against and the
rule's version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

Range = tuple[date, date]


@dataclass(frozen=True)
class Registration:
    """The choices a verdict was decided on."""

    rule_version: str
    """Version of the verdict rule."""
    baseline: Range
    """The claim's baseline (the reference period of the comparison)."""
    window: Range
    """The claim's test window."""
    season_matched: tuple[Range, ...]
    """The baseline's periods on the window's calendar days (the deciding comparison)."""
    reference_ids: tuple[str, ...]
    """The instrument references the rows were measured against."""
    claims_sha256: str | None = None
    """SHA-256 of the claims file (None when the claims did not come from a file)."""

    def to_json(self) -> dict[str, Any]:
        """The ``registration`` object of ``evaluate --json``."""
        return {
            "claims_sha256": self.claims_sha256,
            "rule_version": self.rule_version,
            "reference_period": _range(self.baseline),
            "window": _range(self.window),
            "season_matched": [_range(r) for r in self.season_matched],
            "reference_ids": list(self.reference_ids),
        }


def file_sha256(data: bytes) -> str:
    """Hex SHA-256 of a claims file's bytes."""
    return hashlib.sha256(data).hexdigest()


def _range(value: Range) -> list[str]:
    return [value[0].isoformat(), value[1].isoformat()]
