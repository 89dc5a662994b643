"""A small transition-table state machine that every record type declares its lifecycle with.

    LIFECYCLE = StateMachine("status", [
        Transition("new", "in_progress"),
        Transition("in_progress", "resolved", guard=has_resolution,
                   effect=stop_clocks),
    ])
    LIFECYCLE.apply(incident, "resolved", actor=agent)

Guards return ``None`` when the move is fine or a message saying why not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import TransitionNotAllowed

Guard = Callable[..., str | None]
Effect = Callable[..., None]


@dataclass(frozen=True)
class Transition:
    source: str | tuple[str, ...]
    target: str
    guard: Guard | None = None
    effect: Effect | None = None
    label: str = ""

    def sources(self) -> tuple[str, ...]:
        return (self.source,) if isinstance(self.source, str) else tuple(self.source)


@dataclass
class StateMachine:
    field: str
    transitions: list[Transition]
    _index: dict[tuple[str, str], Transition] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._index = {}
        for transition in self.transitions:
            for source in transition.sources():
                key = (source, transition.target)
                if key in self._index:
                    raise ValueError(f"duplicate transition {source} -> {transition.target}")
                self._index[key] = transition

    def states(self) -> set[str]:
        return {s for s, _ in self._index} | {t for _, t in self._index}

    def targets_from(self, state: str) -> list[str]:
        return [target for (source, target) in self._index if source == state]

    def find(self, source: str, target: str) -> Transition | None:
        return self._index.get((source, target))

    def refusal(self, record: Any, target: str, **context: Any) -> str | None:
        """Why ``record`` may not move to ``target`` now, or ``None`` if it may."""
        source = getattr(record, self.field)
        transition = self.find(source, target)
        if transition is None:
            return f"cannot go from {source!r} to {target!r}"
        if transition.guard is not None:
            return transition.guard(record, **context)
        return None

    def available(self, record: Any, **context: Any) -> list[str]:
        """Targets reachable from the record's current state whose guard passes."""
        current = getattr(record, self.field)
        return [t for t in self.targets_from(current) if self.refusal(record, t, **context) is None]

    def apply(self, record: Any, target: str, **context: Any) -> tuple[str, str]:
        """Check the table and guard, set the new state, run the side effect.

        Returns ``(old, new)``. Persisting and journaling is the caller's service's job.
        """
        reason = self.refusal(record, target, **context)
        if reason is not None:
            raise TransitionNotAllowed(reason, field=self.field)
        old = getattr(record, self.field)
        setattr(record, self.field, target)
        transition = self._index[(old, target)]
        if transition.effect is not None:
            transition.effect(record, **context)
        return old, target


def table(machine: StateMachine) -> Iterable[tuple[str, str]]:
    return sorted(machine._index)
