from __future__ import annotations

import datetime as dt

import pytest

from itsmo.incidents import services
from tests.incidents.conftest import *  # noqa: F403


def at(text: str) -> dt.datetime:
    """An ISO instant (with its offset) as aware UTC."""
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


@pytest.fixture
def p2_met_and_missed(frozen, p2_sla, open_mexico_incident, agent_mexico):
    """Two P2 incidents opened in Mexico on Monday 14 September 2026 at 08:00: one resolved
    an hour later (resolution met), one on the 25th (breached). Returns (met, missed)."""
    frozen.set(at("2026-09-14T08:00:00-06:00"))
    met = open_mexico_incident(impact=2, urgency=1)
    missed = open_mexico_incident(impact=1, urgency=2)
    frozen.set(at("2026-09-14T09:00:00-06:00"))
    services.resolve(met, actor=agent_mexico, code="fixed", notes="ok")
    frozen.set(at("2026-09-25T09:00:00-06:00"))
    services.resolve(missed, actor=agent_mexico, code="fixed", notes="late")
    return met, missed
