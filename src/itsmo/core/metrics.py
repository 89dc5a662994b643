"""The KPI registry: each practice registers the metrics it contributes.

A metric has an id (``incidents.mttr_p90``), a name, a unit, which direction is better and
a compute function taking a :class:`Slice` (period x region/country x service). The future
``indicators`` app snapshots every registered metric on a schedule; dashboards read the
snapshots::

    metrics.register(Metric("incidents.opened", _("Incidents opened"), "count",
                            Better.NEUTRAL, compute=count_opened))
    value = metrics.get("incidents.opened").compute(Slice(start, end, country=mx))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class Better:
    HIGHER = "higher"
    LOWER = "lower"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class Slice:
    """What a metric is computed over: ``[start, end)`` and optional filters (ids or objects)."""

    start: datetime
    end: datetime
    region: Any = None
    country: Any = None
    service: Any = None


@dataclass(frozen=True)
class Metric:
    id: str
    name: str
    unit: str
    better: str
    compute: Callable[[Slice], float | int | None]
    description: str = ""
    process: str = ""


_metrics: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    """Register ``metric``; registering the same id again replaces it (module reloads)."""
    if metric.better not in (Better.HIGHER, Better.LOWER, Better.NEUTRAL):
        raise ValueError(f"{metric.id}: better must be higher, lower or neutral")
    _metrics[metric.id] = metric
    return metric


def get(metric_id: str) -> Metric:
    try:
        return _metrics[metric_id]
    except KeyError:
        raise KeyError(f"no metric {metric_id!r}") from None


def all_metrics(process: str | None = None) -> list[Metric]:
    return sorted(
        (m for m in _metrics.values() if process is None or m.process == process),
        key=lambda m: m.id,
    )


def compute(metric_id: str, slice_: Slice) -> float | int | None:
    return get(metric_id).compute(slice_)
