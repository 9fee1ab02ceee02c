"""What a source's registry entry is (``SourceSpec``) and the helpers entries share.

Apart from the registry, which holds the one list of built-in sources and so imports every
source package: each package imports this module for its ``SPEC``, never the list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from msgspec import Struct, field

from burntray.config_keys import ConfigField
from burntray.sources.base import HasMinuteSeries

if TYPE_CHECKING:
    import threading
    from pathlib import Path

    from burntray.model.periods import PeriodKeys, ViewRow
    from burntray.model.pricing import PriceTable
    from burntray.runtime.team_wire import RollupExport
    from burntray.sources.base import Source, SourceContext
    from burntray.store.history import HistoryStore
    from burntray.store.schema import TableSchema

    # (history, the live source, start_ns, end_ns, prices) -> (per-minute rows or None, where
    # they come from, note); rows are (minute, reqs, priced cost, unpriced reqs). For the type
    # checker only: at run time its forward references cost every command 1 ms to compile.
    ChartMinutes = Callable[
        [HistoryStore | None, Source, int, int, PriceTable],
        tuple[list[tuple[int, int, float, int]] | None, str, str],
    ]
    ViewRowsReader = Callable[
        [HistoryStore, tuple[str, ...], int, int, PeriodKeys | None], list[ViewRow] | None
    ]


class ClearAction(Struct, frozen=True):
    """Emptying an upstream's own store (only where the upstream itself offers a clear).

    ``describe`` says what would be emptied ("hexai stats at ... (42 events)") or raises
    ``BurntrayError`` when it cannot be read (then nothing may be cleared); ``run`` empties it and
    returns a sentence for the user, raising ``BurntrayError`` when nothing was changed.
    """

    label: str  # menu label: "hexai stats"
    flag: str  # `burntray clear-cache --FLAG`
    describe: Callable[[SourceContext], str]
    run: Callable[[SourceContext], str]


class DemoWrite(Protocol):
    def __call__(
        self, folder: Path, provider: str, model: str, *, sent: int, recv: int, at_ns: int
    ) -> None:
        """Append one request (``sent``/``recv`` bytes, at ``at_ns``) to the store in ``folder``."""


class DemoFeed(Struct, frozen=True):
    """How ``burntray demo`` feeds this source synthetic traffic: ``write`` appends one request
    to the upstream's own store in a private folder, written exactly as the upstream writes it,
    and ``option`` is the config key that points the source at that folder."""

    option: str  # "hexai.dir"
    write: DemoWrite


class ReceiverSpec(Struct, frozen=True):
    """A source that listens for its data (a network receiver): ``burntray serve`` is then not
    ready while the receiver it was asked for cannot listen or count (the source implements
    ``base.Listens``)."""

    label: str  # for people: "OTLP receiver"
    # the boolean config key that starts the receiver inside `all`/`auto` ("otel.enabled")
    enabled_key: str
    # listens only followed alone and asked by ``enabled_key`` (a hub: in `all`, another
    # member listens on the same port)
    alone: bool = False


class StatusLineCommand(Protocol):
    """What ``burntray statusline`` runs, given by the one source whose tool runs a status-line
    command (Claude Code's ``statusLine``): the CLI keeps stdin, colours, the time budget and
    exit codes; the source reads the tool's payload and logs, and edits the tool's settings."""

    MAX_PAYLOAD_BYTES: int

    def parse_parts(self, show: str | None) -> tuple[str, ...]:
        """The parts to show, in order (``ValueError`` names a bad one)."""
        ...

    def line(
        self, ctx: Any, stdin: bytes, parts: tuple[str, ...], color: bool, budget_s: float
    ) -> tuple[str, threading.Thread | None]:
        """The line, and the thread still reading the logs when ``budget_s`` ran out."""
        ...

    def install(self, env: Mapping[str, str], command: str | None, refresh_s: int | None) -> str:
        """Adds the command to the tool's settings; what was done, in words."""
        ...

    def uninstall(self, env: Mapping[str, str]) -> str:
        """Takes it out again; what was done, in words."""
        ...


class SourceSpec(Struct, frozen=True):
    """A source's registry entry: its name, how to build and probe it, its keys and tables."""

    name: str  # stable id used in config and on the command line
    label: str  # for people: "hexai cache"
    build: Callable[[SourceContext], Source]
    # cheap availability check (no network waits): (present, why) - "why" is shown when absent
    probe: Callable[[SourceContext], tuple[bool, str]]
    config_fields: tuple[ConfigField, ...] = ()
    # upstreams this source reports; among sources covering one upstream, `all` counts the one
    # with the highest ``detail`` and shows the others as covered by it
    covers: frozenset[str] = frozenset()
    detail: int = 0
    # True when each of its records names the upstream it came from (its key starts with
    # "<upstream>:"): `all` then leaves out only the upstreams another source counts, and adds
    # the rest (OTLP from Gemini CLI beside Claude Code's own logs), instead of all or nothing
    per_upstream: bool = False
    # "auto" picks the present source with the highest rank (None: never chosen by auto)
    auto_rank: int | None = None
    doctor: Callable[[SourceContext], list[str]] | None = None
    clear: ClearAction | None = None
    # the tables it keeps in burntray's history, with their migration ladders: created and
    # migrated at open, emptied by "clear history" (usage ones), pruned as they declare
    history_tables: tuple[TableSchema, ...] = ()
    # the report's charts; None: the per-request records this source keeps in the history
    chart_minutes: ChartMinutes | None = None
    summary: str = ""  # one line for the README table and `doctor`
    aliases: tuple[str, ...] = field(default=())
    # the demo's synthetic traffic goes through this source (None: it cannot be fed one)
    demo_writer: DemoFeed | None = None
    receiver: ReceiverSpec | None = None
    # doctor's count of what it keeps in tables of its own in the history ("42 hexai events")
    history_summary: Callable[[HistoryStore], str] | None = None
    # ``burntray statusline``'s body, loaded when that command runs (None: its tool runs none)
    status_line: Callable[[], StatusLineCommand] | None = None
    # a byte-counting source's usage for a team's hub, as per-minute rollups (None: its
    # records, if any, travel one per request from the history's queue)
    team_rollups: Callable[[HistoryStore], RollupExport] | None = None
    # rows for the views (``status --by``) from tables of its own: (history, dims, start_ns,
    # end_ns, the periods' keys in the viewer's zone or None) -> rows keyed in ``dims``'
    # order, or None when it cannot group by those dims
    view_rows: ViewRowsReader | None = None


def path_probe(
    where: Callable[[SourceContext], Path], absent: str
) -> Callable[[SourceContext], tuple[bool, str]]:
    """A probe for a source that reads one path: present when anything is there (a directory
    or a bad file where the store should be is a problem for the source to show, not absence);
    ``where`` raising ``RuntimeError`` (no home to resolve, say) is why it is absent."""

    def probe(ctx: SourceContext) -> tuple[bool, str]:
        try:
            path = where(ctx)
        except RuntimeError as exc:
            return False, str(exc)
        if path.exists():
            return True, str(path)
        return False, f"no {absent} at {path}"

    return probe


def minute_series_chart(upstream: str, unit: str, where: str) -> ChartMinutes:
    """The report's charts from the live source's own ``minute_series`` (sources that read their
    upstream's database in place keep no records in burntray's history). ``unit`` names what a
    request is there ("turns"), ``where`` the chart's origin for the report."""

    def chart(
        history: HistoryStore | None,
        source: Source,
        start_ns: int,
        end_ns: int,
        prices: PriceTable,
    ) -> tuple[list[tuple[int, int, float, int]] | None, str, str]:
        if not isinstance(source, HasMinuteSeries):
            return None, "", f"not a {upstream} source"
        minutes = source.minute_series(start_ns, end_ns)
        if minutes is None:
            return None, "", f"{upstream} database unreadable: {source.status.detail}"
        note = "" if minutes else f"no {upstream} {unit} in this window"
        return minutes, where, note

    return chart


def covered_upstreams(specs: list[SourceSpec]) -> dict[str, dict[str, str]]:
    """name -> {upstream: the source counted for it instead}, for each upstream of the source
    that another present source reports in more detail (the highest ``detail`` wins, then the
    name, so the answer never depends on set order)."""
    result: dict[str, dict[str, str]] = {}
    for spec in specs:
        lost: dict[str, str] = {}
        for upstream in sorted(spec.covers):
            better = [
                s
                for s in specs
                if upstream in s.covers
                and s.name != spec.name
                and (s.detail, s.name) > (spec.detail, spec.name)
            ]
            if better:
                lost[upstream] = max(better, key=lambda s: (s.detail, s.name)).name
        result[spec.name] = lost
    return result
