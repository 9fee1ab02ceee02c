"""Inline SVG charts: time on x, a figure on y, axes with labels, a ``<title>`` per mark.

Pure functions returning ``Markup``: every piece of text is escaped here, so the template can
place the SVG as is. Colours are CSS classes, so the page's light and dark themes (and print)
style the charts too. No script: the browser shows ``<title>`` as the tooltip.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape
from msgspec import Struct

from burntray.model.timefmt import NS_PER_MINUTE, NS_PER_SECOND

WIDTH, HEIGHT = 760, 250
LEFT, RIGHT, TOP, BOTTOM = 70, 16, 14, 42
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
Y_TICKS = 4
MAX_X_TICKS = 8
MAX_VISIBLE_DOTS = 60
# Tick spacing in minutes, from which the smallest giving at most MAX_X_TICKS ticks is used.
_TICK_LADDER_MIN = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 4320, 10080)


AxisFormat = Callable[[float, int], str]  # (value, decimals) -> axis label


def plain_axis(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def usd_axis(value: float, decimals: int) -> str:
    return f"${value:,.{decimals}f}"


class Bar(Struct, frozen=True):
    start_ns: int
    end_ns: int
    value: float
    tooltip: str


class Point(Struct, frozen=True):
    ts_ns: int
    value: float
    tooltip: str


def nice_step(value: float, ticks: int = Y_TICKS) -> tuple[float, int, int]:
    """(step, tick count, decimals): a 1/2/2.5/5 x 10^k step so ``count * step >= value``.

    Labels at multiples of the step then read cleanly: 0.1, 0.2, 0.3 rather than 0.06, 0.12.
    """
    if value <= 0 or not math.isfinite(value):
        return 0.25, ticks, 2
    raw = value / ticks
    exponent = math.floor(math.log10(raw))
    for mantissa in (1.0, 2.0, 2.5, 5.0, 10.0):
        step = mantissa * 10.0**exponent
        if step >= raw * (1 - 1e-12):
            break
    count = max(1, math.ceil(value / step - 1e-9))
    decimals = max(0, -math.floor(math.log10(step) + 1e-12)) + (1 if mantissa == 2.5 else 0)
    return step, count, decimals


def local_time(ns: int, tz: _dt.tzinfo | None) -> _dt.datetime:
    moment = _dt.datetime.fromtimestamp(ns / 1e9, tz=_dt.UTC)
    return moment.astimezone(tz) if tz is not None else moment.astimezone()


def time_ticks(start_ns: int, end_ns: int, tz: _dt.tzinfo | None) -> list[tuple[int, str]]:
    """Ticks at round local times (every 5 min, hour, 6 h, day...) with their labels."""
    span_min = max(1.0, (end_ns - start_ns) / NS_PER_MINUTE)
    step = next((s for s in _TICK_LADDER_MIN if span_min / s <= MAX_X_TICKS), 10080)
    step_ns = step * NS_PER_MINUTE
    offset = local_time(start_ns, tz).utcoffset() or _dt.timedelta(0)
    offset_ns = int(offset.total_seconds()) * NS_PER_SECOND
    tick = -(-(start_ns + offset_ns) // step_ns) * step_ns - offset_ns
    if step >= 1440:
        fmt = "%a %d %b"
    elif span_min > 1440:
        fmt = "%a %H:%M"
    else:
        fmt = "%H:%M"
    ticks = []
    while tick <= end_ns:
        ticks.append((tick, local_time(tick, tz).strftime(fmt)))
        tick += step_ns
    return ticks


class _Frame:
    """Scales and the axes shared by both chart kinds."""

    def __init__(self, start_ns: int, end_ns: int, y_max: float) -> None:
        self.start_ns = start_ns
        self.span_ns = max(1, end_ns - start_ns)
        self.end_ns = start_ns + self.span_ns
        self.y_step, self.y_ticks, self.y_decimals = nice_step(y_max)
        self.y_max = self.y_step * self.y_ticks

    def x(self, ns: int) -> float:
        clamped = min(max(ns, self.start_ns), self.end_ns)
        return LEFT + (clamped - self.start_ns) / self.span_ns * PLOT_W

    def y(self, value: float) -> float:
        return TOP + PLOT_H - value / self.y_max * PLOT_H

    def axes(self, y_label: str, y_format: AxisFormat, tz: _dt.tzinfo | None) -> list[str]:
        parts = []
        for i in range(self.y_ticks + 1):
            value = self.y_step * i
            y = self.y(value)
            parts.append(
                f'<line class="grid" x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y:.1f}" y2="{y:.1f}"/>'
                f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                f"{escape(y_format(value, self.y_decimals))}</text>"
            )
        for ns, label in time_ticks(self.start_ns, self.end_ns, tz):
            x = self.x(ns)
            parts.append(
                f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP + PLOT_H}" '
                f'y2="{TOP + PLOT_H + 5}"/><text class="tick" x="{x:.1f}" '
                f'y="{TOP + PLOT_H + 18}" text-anchor="middle">{escape(label)}</text>'
            )
        parts.append(
            f'<line class="axis" x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{TOP + PLOT_H}" '
            f'y2="{TOP + PLOT_H}"/><line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" '
            f'y2="{TOP + PLOT_H}"/>'
        )
        parts.append(
            f'<text class="label" x="{LEFT + PLOT_W / 2:.0f}" y="{HEIGHT - 4}" '
            f'text-anchor="middle">time ({escape(_zone_name(self.start_ns, tz))})</text>'
            f'<text class="label" transform="translate(14 {TOP + PLOT_H / 2:.0f}) rotate(-90)" '
            f'text-anchor="middle">{escape(y_label)}</text>'
        )
        return parts


def _zone_name(ns: int, tz: _dt.tzinfo | None) -> str:
    return local_time(ns, tz).tzname() or "local time"


def _svg(chart_id: str, title: str, parts: Sequence[str], empty_text: str) -> Markup:
    body = "".join(parts)
    if empty_text:
        body += (
            f'<text class="empty" x="{LEFT + PLOT_W / 2:.0f}" y="{TOP + PLOT_H / 2:.0f}" '
            f'text-anchor="middle">{escape(empty_text)}</text>'
        )
    # Safe by construction: every text above went through escape(); the rest is our numbers.
    return Markup(  # noqa: S704
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="{escape(chart_id)}-title">'
        f"{escape(title)}</title>{body}</svg>"
    )


def bar_chart(
    chart_id: str,
    title: str,
    bars: Sequence[Bar],
    *,
    start_ns: int,
    end_ns: int,
    y_label: str,
    y_format: AxisFormat,
    tz: _dt.tzinfo | None = None,
    empty_text: str = "",
    markers: Sequence[Point] = (),
) -> Markup:
    """One bar per bucket over ``[start, end)``; each bar's ``<title>`` is its tooltip.

    ``markers`` (e.g. alerts) are drawn as vertical lines at their instants, with a tooltip.
    """
    frame = _Frame(start_ns, end_ns, max((b.value for b in bars), default=0.0))
    parts = frame.axes(y_label, y_format, tz)
    base = frame.y(0)
    for bar in bars:
        x0, x1 = frame.x(bar.start_ns), frame.x(bar.end_ns)
        if x1 <= x0:
            continue
        gap = 1.0 if x1 - x0 > 4 else 0.0
        top = frame.y(bar.value)
        # A full-height transparent target, so even a zero bar has a tooltip to hover.
        parts.append(
            f'<g class="mark"><title>{escape(bar.tooltip)}</title>'
            f'<rect class="hit" x="{x0:.2f}" y="{TOP}" width="{x1 - x0:.2f}" height="{PLOT_H}"/>'
            f'<rect class="bar" x="{x0:.2f}" y="{top:.2f}" width="{x1 - x0 - gap:.2f}" '
            f'height="{base - top:.2f}"/></g>'
        )
    for marker in markers:
        x = frame.x(marker.ts_ns)
        parts.append(
            f'<g class="mark"><title>{escape(marker.tooltip)}</title>'
            f'<line class="marker" x1="{x:.2f}" x2="{x:.2f}" y1="{TOP}" y2="{base:.2f}"/>'
            f'<rect class="hit" x="{x - 3:.2f}" y="{TOP}" width="6" height="{PLOT_H}"/></g>'
        )
    return _svg(chart_id, title, parts, empty_text)


def line_chart(
    chart_id: str,
    title: str,
    points: Sequence[Point],
    *,
    start_ns: int,
    end_ns: int,
    y_label: str,
    y_format: AxisFormat,
    tz: _dt.tzinfo | None = None,
    empty_text: str = "",
) -> Markup:
    """A line through the points (oldest first), with a dot and ``<title>`` at each."""
    frame = _Frame(start_ns, end_ns, max((p.value for p in points), default=0.0))
    parts = frame.axes(y_label, y_format, tz)
    if points:
        coords = [(frame.x(p.ts_ns), frame.y(p.value)) for p in points]
        path = "M" + " L".join(f"{x:.2f} {y:.2f}" for x, y in coords)
        area = f"{path} L{coords[-1][0]:.2f} {frame.y(0):.2f} L{coords[0][0]:.2f} {frame.y(0):.2f}Z"
        parts.append(f'<path class="area" d="{area}"/><path class="line" d="{path}"/>')
        # Dots show when few; with many they stay invisible hover targets for the tooltips.
        dot = "dot" if len(points) <= MAX_VISIBLE_DOTS else "hit"
        for (x, y), point in zip(coords, points, strict=True):
            parts.append(
                f'<g class="mark"><title>{escape(point.tooltip)}</title>'
                f'<circle class="{dot}" cx="{x:.2f}" cy="{y:.2f}" r="3"/></g>'
            )
    return _svg(chart_id, title, parts, empty_text)
