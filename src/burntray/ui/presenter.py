"""The presenter: Snapshot + Settings (+ what the tray itself knows) -> TrayView. Pure.

Everything the tray shows is decided here, as values, so it is tested with no display: the icon
spec (state + compact figure), the tooltip (at most 127 characters, the Windows limit) and every
menu label and state. The tray adapter only turns a TrayView into pystray calls, and only when
the view differs from the one shown (views compare by value). Fitting text into the tooltip and
the rows is ``ui.text_fit``.
"""

from __future__ import annotations

from typing import Literal

from msgspec import Struct

from burntray.config import Settings
from burntray.config_values import CALENDAR_WINDOWS
from burntray.model.format import cost_text, rpm_text, usd, when_text, window_text
from burntray.model.progress import ScanProgress, progress_text
from burntray.model.snapshot import Snapshot
from burntray.model.timefmt import format_duration
from burntray.ui.alert_menu import NOTIFICATIONS_SETTING, MenuGroup, alert_menu
from burntray.ui.limits_view import LIMIT_FIGURE, limit_icon_figure, limit_rows, limit_tooltip
from burntray.ui.menu_choices import window_phrase
from burntray.ui.text_fit import ROW_LIMIT, cut, cut_words, fit_title, short_reason, wrap_lines

TOP_MODELS = 5

IconState = Literal["normal", "elevated", "spike", "stale", "offline", "error"]
ICON_STATES: tuple[IconState, ...] = ("normal", "elevated", "spike", "stale", "offline", "error")

ClearTarget = str  # a clear action's key: a source's flag ("hexai") or "history"
# (key, label) of every clear action; the controller fills it from the registry
DEFAULT_CLEAR_TARGETS: tuple[tuple[str, str], ...] = (("history", "burntray history"),)
TOP_TOOLS = 3  # tools named in the tooltip under ``all``


class IconSpec(Struct, frozen=True):
    """What the icon draws: a state colour/mark and a compact figure ("" = glyph only)."""

    state: IconState
    figure: str = ""


class SourceChoice(Struct, frozen=True):
    """One row of the Source submenu: selectable or not, and why."""

    key: str  # "all" | "auto" | a registered source's name
    label: str  # "hexai cache" or "cburn daemon (no daemon at ...)"
    enabled: bool = True


class Toggle(Struct, frozen=True):
    label: str
    on: bool
    enabled: bool = True


class UiState(Struct, frozen=True):
    """What the tray knows beyond the Snapshot and Settings (all set on the tray's side)."""

    demo: bool = False
    config_error: str = ""  # config.toml was invalid at start: defaults in use, never saved
    config_problems: tuple[str, ...] = ()  # keys config.toml had to leave out; the rest used
    price_error: str = ""  # the configured price file cannot be used: built-in prices in use
    message: str = ""  # the result of the last action (clear cache, open report, ...)
    confirm: ClearTarget | None = None  # a clear waiting for "yes"
    confirm_detail: str = ""  # what would be cleared, e.g. "42 events in .../stats.json"
    sources: tuple[SourceChoice, ...] = (
        SourceChoice("all", "All tools"),
        SourceChoice("auto", "Auto"),
    )
    clear_targets: tuple[tuple[str, str], ...] = DEFAULT_CLEAR_TARGETS
    autostart_supported: bool = False
    autostart_reason: str = "not in this build"
    autostart_on: bool = False
    monitor_error: str = ""  # the monitor thread itself stopped
    version: str = ""
    # long reads under way (a first scan of a GB of logs), while the figures wait for them
    progress: tuple[ScanProgress, ...] = ()


class Problem(Struct, frozen=True):
    """Something wrong, as a menu entry: a short ``label`` at the top level whose submenu holds
    the whole text, wrapped into ``lines`` (never cut at a menu's width)."""

    label: str
    lines: tuple[str, ...]


class TrayView(Struct, frozen=True):
    icon: IconSpec
    title: str
    # disabled rows at the top of the menu: the figures, one line per tool, the alert, the
    # result of the last action; nothing else, so the actions need no scrolling
    header: tuple[str, ...]
    window: str  # checked Window item
    source: str  # checked Source item
    sources: tuple[SourceChoice, ...]
    icon_figure: str  # checked "Show in icon" item
    notifications: Toggle
    autostart: Toggle
    confirm: ClearTarget | None
    confirm_label: str
    clear_targets: tuple[tuple[str, str], ...]
    attention: bool  # SNI NeedsAttention (spike)
    about: str
    alerts: tuple[MenuGroup, ...] = ()  # the Alerts submenu (spike threshold, daily budget)
    metrics: Toggle = Toggle("Serve /metrics", False)  # the Prometheus endpoint, off by default
    problems: tuple[Problem, ...] = ()  # each error whole, in its own submenu
    # the Details submenu: models under `all`, unpriced requests, each source's paths and
    # diagnostics (log files, databases, "inotify on 4 folders", schema versions), notes
    details: tuple[str, ...] = ()


def icon_state(snapshot: Snapshot | None, ui: UiState) -> IconState:
    """Errors and offline are marked first; then stale (dimmed); then the alert level."""
    if ui.monitor_error:
        return "error"
    if snapshot is None:
        return "stale"  # nothing read yet: dimmed until the first numbers
    status = snapshot.status
    if status.state == "error":
        return "error"
    if status.state == "offline":
        return "offline"
    if status.stale or status.state == "starting":
        return "stale"
    return snapshot.alert_level


def compact_number(n: int) -> str:
    """At most 4 characters: 950, 1.2k, 12k, 123k, 1.2M, 12M, 1.2G, ..."""
    if n < 1000:
        return str(n)
    for unit, scale in (("k", 10**3), ("M", 10**6), ("G", 10**9), ("T", 10**12)):
        if n < scale * 9.95:
            return f"{n / scale:.1f}".removesuffix(".0") + unit
        if n < scale * 999.5:
            return f"{round(n / scale)}{unit}"
    return "many"


def icon_figure(snapshot: Snapshot | None, figure: str) -> str:
    """At most 5 characters, legible at 16-24 px: ``0.7``, ``42``, ``$1.2``, ``$1.2k``."""
    if snapshot is None or figure == "none":
        return ""
    totals = snapshot.totals
    if figure == LIMIT_FIGURE:
        return limit_icon_figure(snapshot)
    if figure == "rpm":
        rpm = totals.rpm
        if rpm < 9.95:
            return f"{rpm:.1f}"
        return f"{rpm:.0f}" if rpm < 999.5 else compact_number(round(rpm))
    if figure == "cost":
        if totals.reqs and totals.unpriced_reqs == totals.reqs:
            return "$?"
        cost = totals.cost_usd
        if cost < 9.95:
            return f"${cost:.1f}"
        if cost < 999.5:
            return f"${cost:.0f}"
        return "$" + compact_number(round(cost))
    return compact_number(totals.reqs)


def empty_window_text(snapshot: Snapshot, window: str) -> str:
    """Why a window with no requests shows $0: what it covers and when the last use was
    (``nothing in the last 1 h · last use yesterday 18:42 · $3.10 today``)."""
    phrase = window_phrase(window)
    text = f"nothing {phrase}" if window in CALENDAR_WINDOWS else f"nothing in the {phrase}"
    if snapshot.last_use_ns is not None:
        text += f" · last use {when_text(snapshot.last_use_ns, snapshot.as_of_ns)}"
    else:
        text += " · no use recorded yet"
    if snapshot.today_cost_usd and window != "today":
        text += f" · {usd(snapshot.today_cost_usd)} today"
    return text


def _status_note(snapshot: Snapshot) -> str:
    status = snapshot.status
    if status.state == "empty":
        return status.detail or "no data yet"
    if status.state == "starting":
        # a re-read says so ("re-reading Claude Code logs (burntray's history was cleared)")
        detail = status.detail if status.detail != "first read pending" else ""
        return f"starting: {detail or 'reading the source'}"
    if not status.healthy:
        note = f"{status.state}: {status.detail}"
        return note + (" (numbers are the last good ones)" if status.stale else "")
    if status.partial:
        return f"partly stale: {status.detail}"
    if status.stale:
        return "stale: numbers are the last good ones"
    return ""


def source_rows(snapshot: Snapshot) -> list[str]:
    """The per-tool section of a combined snapshot: requests, cost and state of each."""
    rows = []
    for fig in snapshot.by_source:
        state: str = fig.status.state
        if fig.status.stale and fig.status.healthy:
            state = "stale"
        cost = f"{usd(fig.totals.cost_usd)}" + (" est." if fig.cost_estimated else "")
        line = f"{fig.label} · {fig.totals.reqs} reqs · {cost} · {state}"
        if fig.covered_by:
            line = f"{fig.label} · same requests as {fig.covered_by}, not added"
        rows.append(line)
    return rows


def top_tools(snapshot: Snapshot) -> str:
    """ "roder $1.20 · hexai $0.40": the tools counted, by cost, for the tooltip."""
    counted = [f for f in snapshot.by_source if not f.covered_by and f.totals.reqs]
    counted.sort(key=lambda f: (-f.totals.cost_usd, -f.totals.reqs))
    return " · ".join(f"{f.source} {usd(f.totals.cost_usd)}" for f in counted[:TOP_TOOLS])


def _problem(text: str) -> Problem:
    """An error as a menu entry: its gist as the label, the whole of it wrapped below."""
    label = cut_words(short_reason(text), ROW_LIMIT) or cut(text, ROW_LIMIT)
    return Problem(label, wrap_lines(text))


def _status_rows(snapshot: Snapshot) -> tuple[list[str], list[Problem]]:
    """The status as top-level rows (short) and problems (whole errors, in submenus)."""
    status = snapshot.status
    broken = [
        f for f in snapshot.by_source if not f.status.healthy and f.status.state != "starting"
    ]
    if status.partial and broken:
        prefix = "partly stale: " if len(broken) == 1 else ""
        problems = [
            _problem(f"{prefix}{f.label} {f.status.state}: {f.status.detail}") for f in broken
        ]
        if len(broken) == 1:  # its entry says it all: one row fewer above the actions
            return [], problems
        names = ", ".join(f"{f.label} {f.status.state}" for f in broken)
        return [f"partly stale: {names}"], problems
    if status.state in ("error", "offline"):
        if broken:  # every tool under `all` is broken: each one's own reason
            problems = [_problem(f"{f.label} {f.status.state}: {f.status.detail}") for f in broken]
            return [], problems
        return [], [_problem(_status_note(snapshot))]
    note = _status_note(snapshot)
    return ([note] if note else []), []


def present(snapshot: Snapshot | None, settings: Settings, ui: UiState | None = None) -> TrayView:
    """The view. The menu's top holds only what a glance needs (source and window, the
    figures, one line per tool or the top models of one source, the alert, the last action's
    result); each error is a submenu with its whole text; paths, diagnostics and notes go to
    *Details*."""
    ui = ui or UiState()
    source_label = {c.key: c.label for c in ui.sources}.get(settings.source, settings.source)
    brand = "burntray DEMO" if ui.demo else "burntray"
    header: list[str] = []
    details: list[str] = []
    problems: list[Problem] = []
    if ui.demo:
        header.append("DEMO · synthetic data, not your usage")
    title_extras: list[str] = []
    if snapshot is None:
        window = (
            settings.window
            if settings.window in CALENDAR_WINDOWS
            else format_duration(settings.window_ns)
        )
        title_lines = [f"{brand} · {settings.source} · {window}", "starting…"]
        header += [f"{source_label} · {window_phrase(settings.window)}", "starting…"]
    else:
        window = window_text(snapshot)
        totals = snapshot.totals
        figures = f"{totals.reqs} reqs · {rpm_text(totals.rpm)} RPM · {cost_text(snapshot)}"
        title_lines = [f"{brand} · {snapshot.source} · {window}", figures]
        header.append(f"{snapshot.source} · {window_phrase(settings.window)}")
        header.append(figures)
        if totals.reqs == 0 and snapshot.status.healthy and snapshot.status.state != "empty":
            idle = empty_window_text(snapshot, settings.window)
            header.append(idle)
            title_extras.append(idle)
        tools = top_tools(snapshot)
        if tools:
            title_lines.append(tools)
        header += source_rows(snapshot)
        # one source: its top models are its figures; under `all` the tool lines are, and the
        # models go to Details
        model_rows = header if not snapshot.by_source else details
        for row in snapshot.by_model[:TOP_MODELS]:
            cost = "unpriced" if row.cost_usd is None else usd(row.cost_usd)
            model_rows.append(f"{row.provider}/{row.model} · {row.reqs} reqs · {cost}")
        header += limit_rows(snapshot)  # the plan windows: what runs out on a subscription
        if totals.unpriced_reqs:
            details.append(f"{totals.unpriced_reqs} reqs unpriced (no price known for the model)")
        details += [f"{f.label}: {f.value}" if f.label else f.value for f in snapshot.facts]
        title_extras += [text for text in (limit_tooltip(snapshot),) if text]  # most urgent
        if snapshot.alert_level != "normal" and snapshot.alert_text:
            title_extras.append(snapshot.alert_text)
            header += wrap_lines(snapshot.alert_text)[:2]
        rows, status_problems = _status_rows(snapshot)
        note = _status_note(snapshot)
        if note:
            title_extras.append(note)
        header += rows
        problems += status_problems
        if snapshot.note:
            details.append(snapshot.note)
    for progress in ui.progress:  # "reading Claude Code logs: 41 % (2.1 of 5.2 GB)"
        header.append(progress_text(progress))
        title_extras.insert(0, progress_text(progress))
    if ui.monitor_error:
        title_extras.insert(0, f"error: {ui.monitor_error}")
        problems.insert(0, _problem(f"error: {ui.monitor_error}"))
    if ui.config_error:
        header.append("config.toml is invalid: defaults in use, changes not saved")
        problems.append(Problem(cut(ui.config_error.splitlines()[0], ROW_LIMIT),
                                wrap_lines(ui.config_error)))  # fmt: skip
    elif ui.config_problems:
        count = len(ui.config_problems)
        problems.append(
            Problem(
                f"config.toml: {count} setting{'s' if count > 1 else ''} ignored",
                wrap_lines("\n".join(ui.config_problems)),
            )
        )
    if ui.price_error:
        problems.append(
            Problem("price file not used: built-in prices in use", wrap_lines(ui.price_error))
        )
    if ui.message:
        if len(" ".join(ui.message.split())) <= ROW_LIMIT:
            header.append(ui.message)
        else:
            problems.append(_problem(ui.message))

    confirm_label = ""
    if ui.confirm is not None:
        confirm_label = f"Empty {dict(ui.clear_targets).get(ui.confirm, ui.confirm)}"
        if ui.confirm_detail:
            confirm_label += f" ({ui.confirm_detail})"
        confirm_label += "?"
    autostart_label = "Start at login"
    if not ui.autostart_supported:
        autostart_label += f" ({ui.autostart_reason})"
    return TrayView(
        icon=IconSpec(icon_state(snapshot, ui), icon_figure(snapshot, settings.icon_figure)),
        title=fit_title(title_lines, title_extras),
        header=tuple(cut(row, ROW_LIMIT) for row in header),
        problems=tuple(problems),
        details=tuple(line for row in details for line in wrap_lines(row)),
        window=settings.window,
        source=settings.source,
        sources=ui.sources,
        icon_figure=settings.icon_figure,
        notifications=Toggle("Notifications", settings.notifications),
        metrics=Toggle(f"Serve /metrics on {settings.serve_metrics}", settings.tray_metrics),
        autostart=Toggle(
            cut(autostart_label, ROW_LIMIT),
            ui.autostart_on and ui.autostart_supported,
            enabled=ui.autostart_supported,
        ),
        confirm=ui.confirm,
        confirm_label=cut(confirm_label, ROW_LIMIT),
        clear_targets=ui.clear_targets,
        attention=snapshot is not None and snapshot.alert_level == "spike",
        about=f"About burntray {ui.version}".rstrip(),
        alerts=tuple(  # notifications on/off is the menu's own toggle
            group
            for group in alert_menu(settings)
            if all(choice.setting != NOTIFICATIONS_SETTING for choice in group.choices)
        ),
    )
