"""Priority = f(impact, urgency): the default ITIL matrix, overrides, bad input."""

from __future__ import annotations

import pytest

from itsmo.core.errors import ValidationFailed
from itsmo.incidents import priority, services
from itsmo.incidents.models import PriorityMatrixCell


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [
        (1, 1, 1),
        (1, 2, 2),
        (1, 3, 3),
        (2, 1, 2),
        (2, 2, 3),
        (2, 3, 4),
        (3, 1, 3),
        (3, 2, 4),
        (3, 3, 5),
    ],
)
def test_default_matrix(impact, urgency, expected):
    assert priority.priority_for(impact, urgency) == expected
    assert priority.label(expected) == f"P{expected}"


@pytest.mark.parametrize("bad", [0, 4, -1, True, "1", None])
def test_levels_outside_1_to_3_are_refused(bad):
    with pytest.raises(ValueError):
        priority.priority_for(bad, 1)
    with pytest.raises(ValueError):
        priority.priority_for(1, bad)


def test_an_override_cell_changes_one_cell_only(db):
    PriorityMatrixCell.objects.create(impact=2, urgency=2, priority=2)
    assert services.compute_priority(2, 2) == 2
    assert services.compute_priority(3, 3) == 5
    with pytest.raises(ValidationFailed) as error:
        services.compute_priority(4, 1)
    assert error.value.field == "impact"


def test_opening_computes_the_priority_from_the_matrix(db, open_mexico_incident):
    PriorityMatrixCell.objects.create(impact=3, urgency=3, priority=4)
    assert open_mexico_incident(impact=3, urgency=3).priority == 4
    assert open_mexico_incident(impact=1, urgency=1).priority == 1
