"""Priority from impact and urgency through a matrix. Pure: no ORM, values in and out.

Impact and urgency run from 1 (high) to 3 (low); priority from 1 (P1, critical) to 5
(P5, planning). The default is the ITIL 3x3 matrix::

                 urgency 1  urgency 2  urgency 3
    impact 1        P1         P2         P3
    impact 2        P2         P3         P4
    impact 3        P3         P4         P5

A deployment overrides cells with ``incidents.PriorityMatrixCell`` rows; the service reads
them and passes the overrides to :func:`priority_for`.
"""

from __future__ import annotations

from collections.abc import Mapping

LEVELS = (1, 2, 3)
PRIORITIES = (1, 2, 3, 4, 5)

Matrix = Mapping[tuple[int, int], int]

#: (impact, urgency) -> priority
DEFAULT_MATRIX: dict[tuple[int, int], int] = {
    (impact, urgency): impact + urgency - 1 for impact in LEVELS for urgency in LEVELS
}


def check_level(value: int, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value not in LEVELS:
        raise ValueError(f"{name} must be 1, 2 or 3, not {value!r}")
    return value


def priority_for(impact: int, urgency: int, overrides: Matrix | None = None) -> int:
    """The priority (1-5) of an incident with this impact and urgency."""
    key = (check_level(impact, "impact"), check_level(urgency, "urgency"))
    if overrides and key in overrides:
        priority = overrides[key]
        if priority not in PRIORITIES:
            raise ValueError(f"matrix cell {key} holds {priority!r}, not a priority 1-5")
        return priority
    return DEFAULT_MATRIX[key]


def label(priority: int) -> str:
    return f"P{priority}"
