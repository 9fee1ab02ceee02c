"""The views' rows (``--by day,model``, ``--by project,branch`` ...), read from burntray's own
history: what the agents wrote stays visible after they delete their logs.

For ``all`` every source with records in the history is read, counted as ``all`` counts it:
for each upstream only the source with the most detail is added (a source whose records name
their upstream is added less the upstreams another source counts), so nothing is counted twice.
"""

from __future__ import annotations

import datetime as dt

from msgspec import Struct, field
from msgspec.structs import replace

from burntray.model.periods import (
    PERIODS,
    UNKNOWN,
    PeriodKeys,
    ViewRow,
    merge_rows,
)
from burntray.sources.registry import REGISTRY
from burntray.sources.spec import SourceSpec, covered_upstreams
from burntray.store.history import HistoryStore
from burntray.store.views import grouped, record_sources

_NONE = {
    "session": "(no session)",
    "project": UNKNOWN,
    "branch": UNKNOWN,
    "model": UNKNOWN,
    "host": "(this machine)",
    "user": UNKNOWN,
}


class ViewQuery(Struct, frozen=True):
    """What to show: ``dims`` in order, over ``[start, end)``, periods in ``tz`` (None: the
    machine's zone) with weeks starting on ``week_start`` (0 Monday ... 6 Sunday)."""

    dims: tuple[str, ...]
    start_ns: int
    end_ns: int
    tz: dt.tzinfo | None = None
    week_start: int = 6


class View(Struct):
    rows: list[ViewRow]
    sources: list[str] = field(default_factory=list)  # read and added (whole or in part)
    not_added: dict[str, str] = field(default_factory=dict)  # name -> the source counted instead


def _spec(name: str) -> SourceSpec | None:
    return REGISTRY.get(name) if name in REGISTRY else None


def read_view(history: HistoryStore, names: list[str] | None, query: ViewQuery) -> View:
    """The view of ``names``' records (None: every source with records, as ``all``)."""
    present = record_sources(history)
    chosen = present if names is None else [n for n in names if n in present]
    specs = [s for s in (_spec(n) for n in chosen) if s is not None]
    lost = covered_upstreams(specs) if names is None else {}
    period = next((d for d in query.dims if d in PERIODS), None)
    others = tuple(d for d in query.dims if d not in PERIODS)
    keys = PeriodKeys(period, query.tz, query.week_start) if period else None
    view = View(rows=[])
    parts: list[ViewRow] = []
    for name in chosen:
        spec = _spec(name)
        per_upstream = spec is not None and spec.per_upstream
        left = lost.get(name, {})
        if left and not per_upstream:  # another source reports all it has
            view.not_added[name] = next(iter(left.values()))
            continue
        view.sources.append(name)
        groups = grouped(
            history,
            name,
            query.start_ns,
            query.end_ns,
            others,
            by_period=keys is not None,
            without=tuple(f"{up}:" for up in sorted(left)),
            upstream_tool=per_upstream,
            offsets=keys.offsets if keys is not None else None,
        )
        for g in groups:
            values = iter(g.values)
            row_keys = tuple(
                (keys.of_slot(g.slot) if g.day is None else keys.of_day(g.day))
                if keys is not None and d == period
                else next(values)
                for d in query.dims
            )
            row_keys = tuple(
                v or _NONE.get(d, v) for d, v in zip(query.dims, row_keys, strict=True)
            )
            parts.append(
                ViewRow(row_keys, g.reqs, g.input_tokens, g.output_tokens, g.cache_read_tokens,
                        g.cache_write_tokens, g.cost_usd, g.unpriced_reqs, g.last_ns,
                        g.project or UNKNOWN, tuple(m for m in g.models.split(",") if m))
            )  # fmt: skip
    # sources whose usage is in tables of their own (a hub's minutes), grouped by what is asked
    # (periods in the viewer's zone)
    for spec in (s for s in (_spec(n) for n in (names or REGISTRY.names())) if s):
        if spec.view_rows is None:
            continue
        extra = spec.view_rows(history, query.dims, query.start_ns, query.end_ns, keys) or []
        if extra and spec.name not in view.sources:
            view.sources.append(spec.name)
        for row in extra:
            named = zip(query.dims, row.keys, strict=True)
            parts.append(replace(row, keys=tuple(v or _NONE.get(d, v) for d, v in named)))
    view.rows = merge_rows(parts, query.dims)
    return view
