"""The report's plan-limits timeline: each tool's plan window (5-hour, weekly) over the report's
window, as the tools reported it (``plan_limits`` in burntray's history), one chart per tool and
window. A reset that passed between two reports drops the line to 0 at the reset time (the
window rolled over), never carrying the old figure on."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Any

from burntray.model.limits import PlanWindow
from burntray.model.limits_text import limit_line, percent_text, tool_label, window_words
from burntray.report.html_text import when_text


def limit_points(observations: Iterable[PlanWindow], end_ns: int) -> list[tuple[int, float, str]]:
    """(time, % used, what happened) along one window: each report, and a drop to 0 at each
    reset that passed before the next report (or before ``end_ns``)."""
    ordered = sorted(observations, key=lambda w: w.observed_ns)
    points: list[tuple[int, float, str]] = []
    for i, win in enumerate(ordered):
        after = ordered[i + 1].observed_ns if i + 1 < len(ordered) else end_ns
        note = "limit reached" if win.limit_reached else "reported"
        points.append((win.observed_ns, win.used_percent, note))
        if win.resets_at_ns is not None and win.observed_ns < win.resets_at_ns <= after:
            points.append((win.resets_at_ns, 0.0, "reset"))
    return points


def limit_charts(data: Any, tz: _dt.tzinfo | None) -> list[dict[str, Any]]:
    """One chart per (tool, window) observed in or before the report's window."""
    from burntray.report.charts import Point, line_chart, plain_axis  # noqa: PLC0415

    by_window: dict[tuple[str, int], list[PlanWindow]] = {}
    for win in data.limits:
        by_window.setdefault((win.tool, win.window_minutes), []).append(win)
    now = {(w.tool, w.window_minutes): w for w in data.snapshot.limits}
    charts = []
    for i, (key, observed) in enumerate(sorted(by_window.items())):
        name = f"{tool_label(observed[0].tool)} {window_words(observed[0])}"
        points = [
            Point(ts, used, f"{when_text(ts, tz)}: {name} {percent_text(used)} ({note})")
            for ts, used, note in limit_points(observed, data.end_ns)
        ]
        current = now.get(key)
        charts.append(
            {
                "heading": f"Plan limit: {name} (% used)",
                "svg": line_chart(
                    f"chart-limit-{i}",
                    f"Plan limit: {name}",
                    points,
                    start_ns=data.start_ns,
                    end_ns=data.end_ns,
                    y_label="% used",
                    y_format=plain_axis,
                    tz=tz,
                ),
                "caption": (
                    "Now: " + limit_line(current, data.snapshot.as_of_ns) + ". "
                    if current is not None
                    else ""
                )
                + "As the tool reported it; a drop to 0 marks a reset.",
            }
        )
    return charts


__all__ = ["limit_charts", "limit_points"]
