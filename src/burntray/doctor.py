"""``burntray doctor``: where everything is and how each source is doing, in plain words."""

from __future__ import annotations

import sys
from collections.abc import Callable

from burntray import __version__
from burntray.app import AppContext
from burntray.config import exposed_tokens
from burntray.sources.registry import REGISTRY
from burntray.sources.spec import SourceSpec
from burntray.ui.backend import doctor_lines as tray_doctor_lines

# Each section: title -> function(ctx) -> lines. The list is ``SECTIONS`` at the end; each
# source's section comes from its registry entry and follows [history].
DoctorSection = Callable[[AppContext], list[str]]


def _burntray(ctx: AppContext) -> list[str]:
    paths = ctx.paths
    config_state = "valid" if paths.config_file.exists() else "not created yet (defaults)"
    if ctx.config_error:
        config_state = "INVALID, running on defaults:\n      " + ctx.config_error.replace(
            "\n", "\n      "
        )
    elif ctx.config_problems:
        config_state = (
            f"in use, {len(ctx.config_problems)} setting(s) left out (defaults used for them):"
            + "".join("\n      " + p for p in ctx.config_problems)
        )
    elif ctx.prices().problem:  # a price file named in the config is part of the config
        config_state = "INVALID price file, built-in prices in use:\n      " + ctx.price_error
    tokens, mode = exposed_tokens(paths.config_file, ctx.settings)
    if tokens:
        config_state += (
            f"\n      WARNING: it holds {tokens} and others can read it (mode {mode:04o}): "
            f"chmod 600 {paths.config_file}"
        )
    return [
        f"version      {__version__} (Python {sys.version.split()[0]})",
        f"config       {paths.config_file}: {config_state}",
        f"data dir     {paths.data_dir}",
        f"cache dir    {paths.cache_dir}",
        f"log file     {paths.log_file}",
        f"window       {ctx.settings.window}, source {ctx.settings.source}",
    ]


def _history(ctx: AppContext) -> list[str]:
    db = ctx.paths.history_db
    if not db.exists():
        return [f"{db}: not created yet"]
    history = ctx.history()
    if history is None:
        return [f"{db}: UNUSABLE: {ctx.history_error}"]
    from burntray.store.usage_events import UsageEvents  # noqa: PLC0415

    events = UsageEvents(history)
    counts = [spec.history_summary(history) for spec in REGISTRY if spec.history_summary]
    counts += [f"{n} {spec.name} records" for spec in REGISTRY if (n := events.count(spec.name))]
    lines = [f"{db}: {', '.join(counts)}, kept {ctx.settings.history_retention_days} days"]
    return lines + _history_reach(history, ctx.clock_ns())


def _history_reach(history, now_ns: int) -> list[str]:  # type: ignore[no-untyped-def]
    """How far back each source's records go: what ``--by ... --window all`` can show."""
    import datetime as dt  # noqa: PLC0415

    from burntray.store.views import oldest_ns, record_sources  # noqa: PLC0415

    lines = []
    for name in record_sources(history):
        oldest = oldest_ns(history, name)
        if oldest is None:
            continue
        when = dt.datetime.fromtimestamp(oldest // 10**9).astimezone()
        days = max(0, (now_ns - oldest) // (86400 * 10**9))
        lines.append(f"  {name}: from {when:%Y-%m-%d %H:%M %Z} ({days} days back)")
    return lines


def _sources(ctx: AppContext) -> list[tuple[str, DoctorSection]]:
    """One section per registered source: present or why not, then its own lines."""

    def lines_for(spec: SourceSpec) -> DoctorSection:
        def lines(ctx: AppContext) -> list[str]:
            source_ctx = ctx.source_context(with_history=False)
            present, why = spec.probe(source_ctx)
            out = [f"present      {'yes' if present else 'no'}{': ' + why if why else ''}"]
            if spec.covers:
                out.append(f"covers       {', '.join(sorted(spec.covers))}")
            if spec.doctor is not None:
                out += spec.doctor(source_ctx)
            return out

        return lines

    return [(spec.label, lines_for(spec)) for spec in REGISTRY]


def _start_at_login(ctx: AppContext) -> list[str]:
    from burntray import autostart  # noqa: PLC0415

    ok, how = autostart.supported()
    if not ok:
        return [how]
    state = "on" if autostart.is_enabled() else "off"
    return [f"{state}: {how}", f"command      {autostart.registered_command()}"]


def run_doctor(ctx: AppContext) -> int:
    problems = bool(ctx.config_error or ctx.config_problems)
    problems = problems or bool(exposed_tokens(ctx.paths.config_file, ctx.settings)[0])
    sections = list(SECTIONS)
    at = next((i for i, (title, _) in enumerate(sections) if title == "history"), 0) + 1
    sections[at:at] = _sources(ctx)
    for title, fn in sections:
        print(f"[{title}]")
        try:
            lines = fn(ctx)
        except Exception as exc:  # doctor reports; it never crashes on what it inspects
            lines, problems = [f"check failed: {exc!r}"], True
        for line in lines:
            print(f"  {line}")
    problems = problems or bool(ctx.price_error)
    ctx.close()
    return 1 if problems else 0


def _alerts(ctx: AppContext) -> list[str]:
    from burntray.runtime.alerting import doctor_lines  # noqa: PLC0415

    return doctor_lines(ctx)


def _plan_limits(ctx: AppContext) -> list[str]:
    from burntray.doctor_limits import plan_limit_lines  # noqa: PLC0415

    return plan_limit_lines(ctx)


def _two_costs(ctx: AppContext) -> list[str]:
    from burntray.doctor_limits import two_cost_lines  # noqa: PLC0415

    return two_cost_lines(ctx)


def _prices(ctx: AppContext) -> list[str]:
    """The shipped file's date (the ``pricing.as_of`` of the JSON), what is in force over it, and
    a warning only when the prices may be out of date today."""
    from burntray.model.price_table import PRICES_FILE  # noqa: PLC0415

    table = ctx.prices()
    age = table.age_warning(ctx.clock_ns())
    lines = [f"shipped      {PRICES_FILE}, prices as of {table.as_of}"]
    lines += [f"in force     {source}" for source in table.added_sources]
    if age:
        lines.append(f"OLD: {age}")
    return lines


SECTIONS: tuple[tuple[str, DoctorSection], ...] = (
    ("burntray", _burntray),
    ("history", _history),
    ("start at login", _start_at_login),
    ("alerts", _alerts),
    ("plan limits", _plan_limits),
    ("two costs", _two_costs),
    ("tray", tray_doctor_lines),
    ("prices", _prices),
)
