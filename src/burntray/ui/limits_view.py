"""The plan windows (5-hour, weekly) in the tray: one menu row per tool and window, the most
urgent one in the tooltip, the most used one's % in the icon (*Show in icon* ▸ plan limit %).
Pure, as the presenter it serves."""

from __future__ import annotations

from burntray.model.limits_text import limit_line, limit_short, most_urgent
from burntray.model.snapshot import Snapshot
from burntray.ui.text_fit import ROW_LIMIT

LIMIT_FIGURE = "limit"  # the *Show in icon* choice


def limit_rows(snapshot: Snapshot) -> list[str]:
    """ "Codex 5 h: 42 % · resets 14:05 · at this pace runs out 13:30 (estimate)", one per
    tool and window (a long one goes on over two rows); none when no tool reported a window
    (unknown is not 0 %)."""
    rows = []
    for win in snapshot.limits:
        line = limit_line(win, snapshot.as_of_ns)
        if len(line) > ROW_LIMIT:  # the pace and the age on a row of their own, never cut off
            head, sep, rest = line.partition(" · at this pace")
            if not sep:
                head, sep, rest = line.partition(" · reported")
            rows += [head, sep.removeprefix(" · ") + rest] if sep else [line]
        else:
            rows.append(line)
    return rows


def limit_tooltip(snapshot: Snapshot) -> str:
    """The most urgent window, short: "Codex 5 h 92 % (resets 14:05)"; "" when none."""
    win = most_urgent(snapshot.limits)
    return "" if win is None else limit_short(win, snapshot.as_of_ns)


def limit_icon_figure(snapshot: Snapshot) -> str:
    """The most used window's %, at most 4 characters ("42%", "100%"); "" when none known."""
    if not snapshot.limits:
        return ""
    used = max(w.used_percent for w in snapshot.limits)
    return f"{min(used, 999):.0f}%"


__all__ = ["LIMIT_FIGURE", "limit_icon_figure", "limit_rows", "limit_tooltip"]
