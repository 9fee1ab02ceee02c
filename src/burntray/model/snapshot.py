"""The frozen values that flow from sources to the tray, the CLI and reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Protocol

from msgspec import Struct, field
from msgspec.structs import replace

if TYPE_CHECKING:  # only the annotation: a snapshot without plan windows never loads them
    from burntray.model.figures import SourceFigures
    from burntray.model.limits import PlanWindow

SourceState = Literal["ok", "empty", "error", "offline", "starting"]
# Spend level set by the alert engine: normal; elevated (rate above the hysteresis floor but no
# spike); spike (a spike alert is on). The icon, tooltip and SNI Status show it.
AlertLevel = Literal["normal", "elevated", "spike"]


class SourceStatus(Struct, frozen=True):
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


class UsageRow(Struct, frozen=True):
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


class Totals(Struct, frozen=True):
    """A window's figures summed over every provider and model."""

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


class Capabilities(Struct, frozen=True):
    """What a source's figures can say, so the UI, CLI and reports ask this, never a name."""

    bytes: bool = False  # sent/recv bytes are known (hexai)
    real_tokens: bool = False  # real token counts (else tokens are estimated from bytes)
    per_model: bool = True  # rows per provider/model
    upstream_cost: bool = False  # the upstream states cost itself (else burntray's prices)


class UpstreamFact(Struct, frozen=True):
    """Something the upstream reports about itself (a daemon's period cost, its last error)."""

    label: str
    value: str


class UpstreamDetail(Protocol):
    """Figures an upstream reports about itself beyond the chosen window (a daemon's own
    period), provided by its source: the JSON carries them as the object ``json_key``, the
    report as a section headed ``title``."""

    @property
    def json_key(self) -> str:
        """The name of its object in the status JSON ("daemon")."""
        ...

    @property
    def title(self) -> str:
        """The report's heading for it."""
        ...

    def to_json(self) -> dict[str, Any]:
        """Its JSON object (times as RFC 3339 UTC text, absent text as null)."""
        ...

    def report_rows(self, when: Callable[[int | None], str]) -> list[tuple[str, str]]:
        """(label, value) rows for the report; ``when`` words a time in the report's zone."""
        ...


class Snapshot(Struct, frozen=True):
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
    upstream: UpstreamDetail | None = None  # its source's figures beyond the window
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
    # The plan windows (5-hour, weekly) the tools reported, merged (see model.limits); empty
    # when no tool reported any - unknown, never 0 %.
    limits: tuple[PlanWindow, ...] = ()

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
