"""The frozen values that flow from sources to the tray, the CLI and reports."""

from __future__ import annotations

from typing import Literal

from burntray.record import field, record, replace

SourceState = Literal["ok", "empty", "error", "offline", "starting"]
# Spend level set by the alert engine: normal; elevated (rate above the hysteresis floor but no
# spike); spike (a spike alert is on). The icon, tooltip and SNI Status show it.
AlertLevel = Literal["normal", "elevated", "spike"]


@record
class SourceStatus:
    """How a source is doing, in words a user can act on.

    ``state``: ok (read fine), empty (nothing to read yet, e.g. no stats.json), error (the
    upstream data is unreadable), offline (a daemon cannot be reached), starting (first read
    pending). ``stale`` is true when the numbers shown are the last good ones, not current.
    """

    state: SourceState
    detail: str = ""
    stale: bool = False
    last_ok_ns: int | None = None
    # Several sources combined, some broken: the figures are those of the working ones and
    # ``detail`` names the broken ones ("partly stale").
    partial: bool = False

    @property
    def healthy(self) -> bool:
        return self.state in ("ok", "empty")


@record
class UsageRow:
    """Usage of one provider/model in the window."""

    provider: str
    model: str
    reqs: int
    sent: int
    recv: int
    tokens: int
    cost_usd: float | None  # None: no price known for this model (its requests are unpriced)
    unpriced_reqs: int
    price_key: str = ""  # which table row priced it ("" when unpriced)
    # Real token counts where the source knows them (None: it does not). ``input_tokens`` is
    # uncached input; ``tokens`` = input + output + cache reads + cache writes when they are
    # known, else the bytes/4 estimate (then ``tokens_estimated``).
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    tokens_estimated: bool = False


@record
class Totals:
    reqs: int = 0
    rpm: float = 0.0
    sent: int = 0
    recv: int = 0
    tokens: int = 0
    cost_usd: float = 0.0  # of the priced requests only; see unpriced_reqs
    unpriced_reqs: int = 0
    input_tokens: int | None = None  # as in UsageRow: None when the source does not know them
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    tokens_estimated: bool = False


@record
class Capabilities:
    """What a source's figures can say, so the UI, CLI and reports ask this, never a name."""

    bytes: bool = False  # sent/recv bytes are known (hexai)
    real_tokens: bool = False  # real token counts (else tokens are estimated from bytes)
    per_model: bool = True  # rows per provider/model
    upstream_cost: bool = False  # the upstream states cost itself (else burntray's prices)


@record
class UpstreamFact:
    """Something the upstream reports about itself (a daemon's period cost, its last error)."""

    label: str
    value: str


@record
class SourceFigures:
    """One source's share of a combined (``all``) snapshot.

    ``covered_by`` names the source whose figures were counted instead, when both report the same
    upstream (then this one's are shown but not added).
    """

    source: str
    label: str
    status: SourceStatus
    totals: Totals = field(default_factory=Totals)
    tokens_estimated: bool = False
    covered_by: str = ""
    cost_estimated: bool = False  # as Snapshot.cost_estimated: "est." beside its cost


@record
class DaemonPeriod:
    """A cburn daemon's own figures for its ``--days`` period (not our window)."""

    days: int
    sessions: int
    prompts: int
    api_calls: int
    tokens: int
    estimated_cost_usd: float
    cache_hit_rate: float
    cost_per_day_usd: float
    tokens_per_day: int
    sessions_per_day: float
    poll_interval_sec: int
    at_ns: int | None = None
    started_at_ns: int | None = None
    last_poll_at_ns: int | None = None
    last_error: str = ""
    data_dir: str = ""


@record
class Snapshot:
    """Everything shown for one source and window at one instant."""

    source: str  # "hexai" | "cburn" | ...
    window_ns: int
    as_of_ns: int
    status: SourceStatus
    totals: Totals = field(default_factory=Totals)
    by_model: tuple[UsageRow, ...] = ()
    tokens_estimated: bool = False  # hexai records bytes; tokens are bytes/4
    cost_estimated: bool = False
    history_used: bool = False  # part of the window came from burntray's history store
    data_updated_ns: int | None = None  # when upstream last wrote
    daemon: DaemonPeriod | None = None
    note: str = ""  # e.g. "auto: daemon offline, using hexai cache"
    alert_level: AlertLevel = "normal"
    alert_text: str = ""  # e.g. "Spend spike: $12.40/h (5 min) - 4.1x the last hour"
    capabilities: Capabilities = field(default_factory=Capabilities)
    facts: tuple[UpstreamFact, ...] = ()
    by_source: tuple[SourceFigures, ...] = ()
    window_name: str = ""  # a calendar window ("today", "week"); "" for a duration
    # When nothing was used in the window: the last use burntray knows of and today's spend,
    # so an empty window says why it is empty (None: unknown, or not looked up)
    last_use_ns: int | None = None
    today_cost_usd: float | None = None

    @property
    def window_minutes(self) -> float:
        return self.window_ns / 60e9


def stale_if_from_history(snapshot: Snapshot) -> Snapshot:
    """Mark as stale the figures a failing source answered from burntray's history.

    A source that cannot read its upstream (error, offline) still shows the window from what
    burntray recorded earlier: those are the last good figures, not current ones, whatever the
    source set. Applied to every Snapshot (the monitor, ``status``, reports), so a source only
    has to answer from its history; it never has to remember this rule.
    """
    status = snapshot.status
    if status.healthy or status.stale or not snapshot.history_used:
        return snapshot
    return replace(snapshot, status=replace(status, stale=True))
