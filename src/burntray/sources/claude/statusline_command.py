"""``burntray statusline``'s body for Claude Code: its payload read and recorded, the line made
from the payload, the recorded plan windows and the logs, and the ``statusLine`` entry of Claude
Code's ``settings.json`` added or taken out (the CLI keeps stdin, colours, the time budget and
exit codes). Nothing here touches the network or opens burntray's SQLite history for writing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from burntray.sources.claude.observations import plan_windows, read_observations
from burntray.sources.claude.paths import claude_dirs
from burntray.sources.claude.records import observations_dir
from burntray.sources.claude.statusline import (
    MAX_PAYLOAD_BYTES,
    Payload,
    PayloadError,
    parse_payload,
    write_observation,
)
from burntray.sources.claude.statusline_costs import CACHE_NAME, session_figures
from burntray.sources.claude.statusline_line import LineInput, parse_parts, render

__all__ = ["MAX_PAYLOAD_BYTES", "install", "line", "parse_parts", "uninstall"]


def line(
    ctx: Any, stdin: bytes, parts: tuple[str, ...], color: bool, budget_s: float
) -> tuple[str, threading.Thread | None]:
    """The line, and the thread still reading the logs when their budget ran out."""
    now = time.time_ns()
    note = ""
    try:
        payload = parse_payload(stdin)
    except PayloadError as exc:
        payload, note = Payload(), str(exc)
    folder = observations_dir(ctx.paths)
    if note == "":
        try:
            write_observation(folder, payload, now)
        except OSError as exc:
            note = f"not recorded: {exc.strerror or exc}"
    try:
        dirs = claude_dirs(ctx.source_context(with_history=False))
    except RuntimeError as exc:  # no home to find Claude Code's folders from
        figures, worker, problem = None, None, str(exc)
    else:
        figures, worker, problem = _figures(ctx, dirs, payload, budget_s)
    windows = plan_windows(read_observations(folder), time.time_ns())
    shown = LineInput(payload, figures, windows, time.time_ns(), note, problem)
    return render(shown, parts, color=color), worker


# settings.json is edited by ``install`` and ``uninstall`` only: the line Claude Code runs after
# every message does not load that code.
def install(env: Mapping[str, str], command: str | None, refresh_s: int | None) -> str:
    from burntray.sources.claude import settings_install  # noqa: PLC0415

    return settings_install.install(
        env, command or settings_install.default_command(), refresh_s=refresh_s
    )


def uninstall(env: Mapping[str, str]) -> str:
    from burntray.sources.claude import settings_install  # noqa: PLC0415

    return settings_install.uninstall(env)


def _figures(
    ctx: Any, dirs: list[Any], payload: Payload, budget_s: float
) -> tuple[Any, threading.Thread | None, str]:
    """(figures or None, the thread still reading when the budget ran out, why none)."""
    done: list[Any] = []

    def work() -> None:
        try:
            done.append(
                session_figures(
                    dirs,
                    ctx.prices(),
                    ctx.paths.cache_dir / CACHE_NAME,
                    payload.session_id,
                    time.time_ns(),
                    transcript=payload.transcript_path,
                    history_db=ctx.paths.history_db,
                )
            )
        except Exception as exc:  # the line still shows what the payload said, and why
            done.append(exc)

    worker = threading.Thread(target=work, name="burntray-statusline", daemon=True)
    worker.start()
    worker.join(budget_s)
    # a budget of 0 gives the logs no time at all: the line never waits on (nor races) a read
    # that happens to be quick
    if not done or budget_s <= 0:
        return None, worker, "logs not read in time"
    if isinstance(done[0], Exception):
        return None, None, f"logs not read: {type(done[0]).__name__}: {done[0]}"[:200]
    return done[0], None, ""
