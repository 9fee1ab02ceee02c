"""``all``: every source that is present, followed at once and summed into one answer.

- A source that is absent (its probe says so) is left out silently and probed again now and
  then, so a tool installed while burntray runs joins without a restart. A source that joined
  stays: when it breaks, its problem shows (the whole is "partly stale") and the others'
  figures stay.
- Two sources can report the same upstream (cburn summarises Claude Code's logs; a source that
  reads those logs sees the same requests). Each declares what it ``covers``; for every upstream
  only the present source with the highest ``detail`` is counted, the other is shown with
  ``covered_by`` and not added, so nothing is counted twice. This is decided per upstream: a
  source whose records name their upstream (OTLP from several tools, ``per_upstream``) is added
  less the upstreams another source counts, and those are shown apart as not added.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from burntray.lazylog import get_logger
from burntray.model.aggregate import rpm
from burntray.model.figures import SourceFigures
from burntray.model.snapshot import (
    Capabilities,
    Snapshot,
    SourceState,
    SourceStatus,
    Totals,
    UpstreamFact,
    UsageRow,
)
from burntray.sources.base import (
    Source,
    SourceContext,
    SplitsByUpstream,
    plan_windows_of,
    wakes_on_change,
)
from burntray.sources.registry import REGISTRY
from burntray.sources.spec import SourceSpec, covered_upstreams

if TYPE_CHECKING:  # annotations only: the store loads when a history is attached
    from burntray.model.limits import PlanWindow
    from burntray.store.history import HistoryStore

log = get_logger(__name__)

NAME = "all"
REPROBE_EVERY_S = 30.0
_PROBLEM_ORDER = {"error": 0, "offline": 1, "starting": 2, "empty": 3, "ok": 4}


def _sum_known(values: Iterable[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _merge_rows(rows: Iterable[UsageRow]) -> tuple[UsageRow, ...]:
    merged: dict[tuple[str, str], UsageRow] = {}
    for row in rows:
        prev = merged.get((row.provider, row.model))
        if prev is None:
            merged[(row.provider, row.model)] = row
            continue
        cost = (
            None
            if prev.cost_usd is None and row.cost_usd is None
            else (prev.cost_usd or 0.0) + (row.cost_usd or 0.0)
        )
        merged[(row.provider, row.model)] = UsageRow(
            provider=row.provider,
            model=row.model,
            reqs=prev.reqs + row.reqs,
            sent=prev.sent + row.sent,
            recv=prev.recv + row.recv,
            tokens=prev.tokens + row.tokens,
            cost_usd=cost,
            unpriced_reqs=prev.unpriced_reqs + row.unpriced_reqs,
            price_key=prev.price_key or row.price_key,
            input_tokens=_sum_known((prev.input_tokens, row.input_tokens)),
            output_tokens=_sum_known((prev.output_tokens, row.output_tokens)),
            cache_read_tokens=_sum_known((prev.cache_read_tokens, row.cache_read_tokens)),
            cache_write_tokens=_sum_known((prev.cache_write_tokens, row.cache_write_tokens)),
            tokens_estimated=prev.tokens_estimated or row.tokens_estimated,
        )
    out = list(merged.values())
    out.sort(key=lambda r: (-(r.cost_usd or 0.0), -r.reqs, r.provider, r.model))
    return tuple(out)


def sum_snapshots(snaps: list[Snapshot], window_ns: int) -> tuple[Totals, tuple[UsageRow, ...]]:
    """Totals and per-model rows of several sources' snapshots, added exactly."""
    t = [s.totals for s in snaps]
    reqs = sum(x.reqs for x in t)
    totals = Totals(
        reqs=reqs,
        rpm=rpm(reqs, window_ns),
        sent=sum(x.sent for x in t),
        recv=sum(x.recv for x in t),
        tokens=sum(x.tokens for x in t),
        cost_usd=sum(x.cost_usd for x in t),
        unpriced_reqs=sum(x.unpriced_reqs for x in t),
        input_tokens=_sum_known(x.input_tokens for x in t),
        output_tokens=_sum_known(x.output_tokens for x in t),
        cache_read_tokens=_sum_known(x.cache_read_tokens for x in t),
        cache_write_tokens=_sum_known(x.cache_write_tokens for x in t),
        tokens_estimated=any(s.tokens_estimated for s in snaps),
    )
    return totals, _merge_rows(row for s in snaps for row in s.by_model)


def not_added(specs: list[SourceSpec]) -> dict[str, str]:
    """name -> the source counted instead, for the sources ``all`` does not add at all ("" when
    it adds them, whole or in part): one that loses an upstream is left out whole, unless its
    records name their upstream (``per_upstream``), when only that upstream's are left out."""
    lost = covered_upstreams(specs)
    return {
        spec.name: ""
        if spec.per_upstream or not lost[spec.name]
        else next(iter(lost[spec.name].values()))
        for spec in specs
    }


def counted_sources(specs: list[SourceSpec]) -> dict[str, str]:
    """name -> "" when all of the source's figures are added, else the source counted for the
    first upstream it loses. Whole sources only (the report's charts, kept per source, have no
    per-upstream split: a source added only in part is left out of them)."""
    lost = covered_upstreams(specs)
    return {name: next(iter(ups.values()), "") for name, ups in lost.items()}


# How the upstreams of a per-upstream source are named for people.
_UPSTREAM_LABELS = {"claude-code": "Claude Code", "codex": "Codex", "gemini-cli": "Gemini CLI"}


class CombinedSource:
    name = NAME
    label = "All tools"

    def __init__(self, ctx: SourceContext, reprobe_every_s: float = REPROBE_EVERY_S) -> None:
        self._ctx = ctx
        self._reprobe_every_s = reprobe_every_s
        self._members: dict[str, Source] = {}
        self._specs: dict[str, SourceSpec] = {}
        self._absent: dict[str, str] = {}
        self._history = ctx.history
        self._wake: Callable[[], None] | None = None
        self._next_probe = 0.0
        self._probe_new()

    # --- membership ---------------------------------------------------------------------------
    def _probe_new(self) -> bool:
        self._next_probe = time.monotonic() + self._reprobe_every_s
        joined = False
        for spec in REGISTRY:
            if spec.name in self._members:
                continue
            try:
                present, why = spec.probe(self._ctx)
            except Exception as exc:  # a broken probe leaves that source out, says why
                log.exception("%s: probe failed", spec.name)
                present, why = False, f"probe failed: {exc!r}"
            if not present:
                self._absent[spec.name] = why
                continue
            try:
                source = spec.build(self._ctx)
            except Exception as exc:
                log.exception("%s: could not be built", spec.name)
                self._absent[spec.name] = f"could not start: {exc}"
                continue
            self._absent.pop(spec.name, None)
            self._members[spec.name] = source
            self._specs[spec.name] = spec
            if self._history is not None:
                source.attach_history(self._history)
            if self._wake is not None:
                source.start(self._wake)
            joined = True
        return joined

    @property
    def members(self) -> dict[str, Source]:
        return dict(self._members)

    @property
    def absent(self) -> dict[str, str]:
        """Sources left out, and why (for doctor and the menu)."""
        return dict(self._absent)

    @property
    def counted_whole(self) -> dict[str, str]:
        return counted_sources(list(self._specs.values()))

    # --- the Source protocol --------------------------------------------------------------
    @property
    def status(self) -> SourceStatus:
        return self._combined_status({n: m.status for n, m in self._members.items()})

    def _combined_status(self, statuses: dict[str, SourceStatus]) -> SourceStatus:
        """One rule: the whole is as good as the sources it adds up. A counted source that is
        broken, or only partly read, makes it "partly stale" and is named (``status`` exits 1);
        a source not added (another reports the same requests) cannot: its own line says how
        it is doing."""
        if not statuses:
            why = "; ".join(f"{REGISTRY.label(n)}: {w}" for n, w in self._absent.items())
            return SourceStatus("empty", f"no LLM tool's usage found ({why})" if why else "")
        covered = not_added(list(self._specs.values()))
        counted = {n: s for n, s in statuses.items() if not covered.get(n)} or statuses
        broken = [
            (name, s)
            for name, s in counted.items()
            if (not s.healthy and s.state != "starting") or s.partial
        ]
        if not broken:
            if all(s.state == "starting" for s in counted.values()):
                return SourceStatus("starting", "first read pending", stale=True)
            state: SourceState = "ok" if any(s.state == "ok" for s in counted.values()) else "empty"
            return SourceStatus(
                state, last_ok_ns=max((s.last_ok_ns or 0) for s in counted.values())
            )
        detail = "; ".join(
            f"{REGISTRY.label(n)} {'partial' if s.healthy else s.state}: {s.detail}"
            for n, s in broken
        )
        if len(broken) == len(counted) and not any(s.healthy for _, s in broken):
            worst = min(broken, key=lambda b: _PROBLEM_ORDER[b[1].state])[1]
            return SourceStatus(worst.state, detail, stale=True, last_ok_ns=worst.last_ok_ns)
        return SourceStatus("ok", detail, stale=True, partial=True)

    def start(self, wake: Callable[[], None]) -> None:
        self._wake = wake
        for source in self._members.values():
            source.start(wake)

    @property
    def wakes_on_change(self) -> bool:
        """True when every member's data wakes the monitor as it changes (a source without
        a watch, e.g. the cburn daemon, needs a look every poll interval)."""
        return bool(self._members) and all(wakes_on_change(m) for m in self._members.values())

    def poll(self) -> bool:
        changed = False
        if time.monotonic() >= self._next_probe:
            changed = self._probe_new()
        for name, source in self._members.items():
            try:
                changed = source.poll() or changed
            except Exception:  # sources never raise; if one does, the others go on
                log.exception("%s: poll failed", name)
        return changed

    def needs_history(self, window_ns: int, now_ns: int) -> bool:
        return any(m.needs_history(window_ns, now_ns) for m in self._members.values())

    def attach_history(self, history: HistoryStore) -> None:
        self._history = history
        for source in self._members.values():
            source.attach_history(history)

    def snapshot(self, window_ns: int, now_ns: int | None = None) -> Snapshot:
        now = self._ctx.clock_ns() if now_ns is None else now_ns
        specs = list(self._specs.values())
        lost = covered_upstreams(specs)
        covered = not_added(specs)
        snaps: dict[str, Snapshot] = {}
        # per-upstream sources added in part: what was left out, per upstream
        left_out: dict[str, dict[str, tuple[Totals, tuple[UsageRow, ...]]]] = {}
        for name, source in self._members.items():
            try:
                left = lost.get(name) if not covered.get(name) else None
                if left and isinstance(source, SplitsByUpstream):
                    snaps[name], left_out[name] = source.split_snapshot(window_ns, now, left)
                else:
                    snaps[name] = source.snapshot(window_ns, now)
            except Exception as exc:
                log.exception("%s: snapshot failed", name)
                snaps[name] = Snapshot(
                    source=name,
                    window_ns=window_ns,
                    as_of_ns=now,
                    status=SourceStatus("error", f"internal error: {exc!r}", stale=True),
                )
        counted = [s for name, s in snaps.items() if not covered.get(name)]
        totals, rows = sum_snapshots(counted, window_ns)
        figures: list[SourceFigures] = []
        notes = [
            f"{REGISTRY.label(n)} not added: {REGISTRY.label(w)} reports the same requests"
            for n, w in covered.items()
            if w and n in snaps
        ]
        for name, snap in snaps.items():
            figures.append(
                SourceFigures(
                    source=name,
                    label=REGISTRY.label(name),
                    status=snap.status,
                    totals=snap.totals,
                    tokens_estimated=snap.tokens_estimated,
                    covered_by=covered.get(name, ""),
                    cost_estimated=snap.cost_estimated,
                )
            )
            for upstream, (part, _rows) in left_out.get(name, {}).items():
                if not part.reqs:
                    continue
                who = _UPSTREAM_LABELS.get(upstream, upstream)
                winner = lost[name][upstream]
                figures.append(
                    SourceFigures(
                        source=f"{name}/{upstream}",
                        label=f"{REGISTRY.label(name)}: {who} requests",
                        status=snap.status,
                        totals=part,
                        tokens_estimated=snap.tokens_estimated,
                        covered_by=winner,
                        cost_estimated=snap.cost_estimated,
                    )
                )
                notes.append(
                    f"{REGISTRY.label(name)}: {part.reqs} {who} requests not added: "
                    f"{REGISTRY.label(winner)} reports the same requests"
                )
        caps = [s.capabilities for s in counted]
        return Snapshot(
            source=NAME,
            window_ns=window_ns,
            as_of_ns=now,
            status=self._combined_status({n: s.status for n, s in snaps.items()}),
            totals=totals,
            by_model=rows,
            tokens_estimated=any(s.tokens_estimated for s in counted),
            cost_estimated=any(s.cost_estimated for s in counted),
            history_used=any(s.history_used for s in counted),
            data_updated_ns=max(
                (s.data_updated_ns for s in counted if s.data_updated_ns is not None),
                default=None,
            ),
            note="; ".join(notes),
            capabilities=Capabilities(
                bytes=any(c.bytes for c in caps),
                real_tokens=any(c.real_tokens for c in caps),
                per_model=any(c.per_model for c in caps),
                upstream_cost=bool(caps) and all(c.upstream_cost for c in caps),
            ),
            facts=tuple(
                UpstreamFact(
                    f"{REGISTRY.label(name)}: {fact.label}" if fact.label else REGISTRY.label(name),
                    fact.value,
                )
                for name, snap in snaps.items()
                for fact in snap.facts
            ),
            by_source=tuple(figures),
        )

    def plan_windows(self, now_ns: int) -> tuple[PlanWindow, ...]:
        """Every member's plan windows, merged (``HasLimits``): freshest wins per tool."""
        return plan_windows_of(self, now_ns)

    def member_snapshot(self, name: str, window_ns: int, now_ns: int) -> Snapshot | None:
        source = self._members.get(name)
        return None if source is None else source.snapshot(window_ns, now_ns)

    def close(self) -> None:
        for source in self._members.values():
            try:
                source.close()
            except Exception:
                log.exception("closing a source failed")
        self._members.clear()
