"""How figures are written, in one place: the CLI, tooltip, menu and reports all use these."""

from __future__ import annotations

from burntray.model.snapshot import Snapshot


def human_bytes(n: int) -> str:
    """hexai's ``textutil.HumanBytes`` with the unit always written: base 1000, ``NB`` below
    1000, else one decimal + kB/MB/GB/TB with a trailing ``.0`` dropped (1200 -> ``1.2kB``,
    1000 -> ``1kB``). hexai writes ``1.2k``, which beside token counts reads as tokens."""
    if n < 1000:
        return f"{n}B"
    value, unit = float(n), ""
    for suffix in ("k", "M", "G", "T"):
        if value < 1000 and unit:
            break
        value /= 1000
        unit = suffix
    text = f"{value:.1f}"
    return text.removesuffix(".0") + unit + "B"


def human_count(n: int) -> str:
    """Compact counts for tight spaces: 950, 1.2k, 12k, 1.3M."""
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}".removesuffix(".0") + "k"
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}".removesuffix(".0") + "M"


def usd(amount: float) -> str:
    """``$0.84``, ``$12.40``, ``$1,234``; amounts under a cent show as ``<$0.01``."""
    if amount == 0:
        return "$0.00"
    if abs(amount) < 0.01:
        return "<$0.01" if amount > 0 else "-<$0.01"
    if abs(amount) >= 1000:
        return f"${amount:,.0f}"
    return f"${amount:,.2f}"


def rpm_text(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def cost_text(snapshot: Snapshot) -> str:
    """Cost with the qualifiers it needs: ``$0.84 est.``, ``$0.84 est. + 3 unpriced``.

    The one rule for "est.", in every view (tooltip, menu, terminal, report, JSON's
    ``estimated.cost``): a cost is an estimate when it was computed from a price table (burntray's
    own, or the tool's, as cburn and ctm do) rather than stated by the tool as what the requests
    cost. Each source sets ``cost_estimated`` by that rule; views only read it.
    """
    totals = snapshot.totals
    if totals.reqs and totals.unpriced_reqs == totals.reqs:
        return f"unpriced ({totals.unpriced_reqs} reqs)"
    text = usd(totals.cost_usd)
    if snapshot.cost_estimated:
        text += " est."
    if totals.unpriced_reqs:
        text += f" + {totals.unpriced_reqs} unpriced"
    return text


def when_text(ts_ns: int, now_ns: int) -> str:
    """``today 09:12``, ``yesterday 18:42``, ``Mon 18:42`` (this past week), ``2026-11-20``:
    a past instant in local time, as near as it is."""
    import datetime as dt  # noqa: PLC0415 - only for an empty window

    when = dt.datetime.fromtimestamp(ts_ns / 1e9)
    days = (dt.datetime.fromtimestamp(now_ns / 1e9).date() - when.date()).days
    if days <= 0:
        return f"today {when:%H:%M}"
    if days == 1:
        return f"yesterday {when:%H:%M}"
    if days < 7:
        return f"{when:%a %H:%M}"
    return f"{when:%Y-%m-%d}"


def window_text(snapshot: Snapshot) -> str:
    """The window as a short label: ``today``, ``week``, else its length (``1h``, ``7d``)."""
    from burntray.model.timefmt import format_duration  # noqa: PLC0415

    return snapshot.window_name or format_duration(snapshot.window_ns)


def status_line(snapshot: Snapshot) -> str:
    """One line for terminals: ``hexai · 1h · 42 reqs · 0.70 rpm · $0.84 est.``"""

    totals = snapshot.totals
    parts = [
        snapshot.source,
        window_text(snapshot),
        f"{totals.reqs} reqs",
        f"{rpm_text(totals.rpm)} rpm",
        cost_text(snapshot),
    ]
    status = snapshot.status
    if status.state == "empty":
        parts.append(status.detail or "no data yet")
    elif not status.healthy:
        parts.append(f"{status.state}: {status.detail}")
        if status.stale:
            parts.append("stale")
    elif status.partial:
        parts.append(f"partly stale: {status.detail}")
    elif status.stale:  # read fine, but what could be read is not current (detail says why)
        parts.append(f"stale: {status.detail}")
    if not totals.reqs and snapshot.last_use_ns is not None:  # why the window shows nothing
        parts.append(f"last use {when_text(snapshot.last_use_ns, snapshot.as_of_ns)}")
    if snapshot.note:
        parts.append(snapshot.note)
    if snapshot.limits:
        from burntray.model.limits_text import limit_short  # noqa: PLC0415

        parts += [limit_short(w, snapshot.as_of_ns) for w in snapshot.limits]
    return " · ".join(parts)


def tmux_line(snapshot: Snapshot) -> str:
    """In the spirit of hexai's tmux status: ``Σ@1h ↑12.3kB ↓4.1kB 0.7rpm $0.84`` (bytes sent
    and received, as hexai counts them)."""

    totals = snapshot.totals
    if totals.reqs and totals.unpriced_reqs == totals.reqs:
        cost = "$?"
    else:
        cost = usd(totals.cost_usd) + ("+?" if totals.unpriced_reqs else "")
    line = (
        f"Σ@{window_text(snapshot)} ↑{human_bytes(totals.sent)} "
        f"↓{human_bytes(totals.recv)} {totals.rpm:.1f}rpm {cost}"
    )
    caps = snapshot.capabilities
    if caps.real_tokens or not caps.bytes:  # tokens where any source counts real ones
        approx = "~" if snapshot.tokens_estimated else ""
        line = (
            f"Σ@{window_text(snapshot)} {approx}{human_count(totals.tokens)}tok "
            f"{totals.rpm:.1f}rpm {cost}"
        )
    if snapshot.limits:
        from burntray.model.limits_text import limit_tmux  # noqa: PLC0415

        line += "".join(" " + limit_tmux(w) for w in snapshot.limits)
    if not snapshot.status.healthy:
        line += f" ⚠{snapshot.status.state}"
        if snapshot.status.stale:  # the figures are the last good ones (e.g. from history)
            line += " (stale)"
    return line


def estimated_tokens(snapshot: Snapshot) -> int:
    """How many of the snapshot's tokens are estimated from bytes (the rest are real counts):
    under ``all``, those of the counted tools whose tokens are estimates."""
    if snapshot.by_source:
        return sum(
            f.totals.tokens for f in snapshot.by_source if f.tokens_estimated and not f.covered_by
        )
    return snapshot.totals.tokens if snapshot.tokens_estimated else 0


def token_split_text(snapshot: Snapshot) -> str:
    """How real the tokens are, in words: ``""`` when all are real counts, ``estimated from
    bytes (bytes / 4)`` when all are estimates, else ``92 % real, 8 % estimated from bytes``."""
    total = snapshot.totals.tokens
    estimated = min(estimated_tokens(snapshot), total)
    if not snapshot.tokens_estimated or (total and estimated == 0):
        return ""
    if not total or estimated == total:
        return "estimated from bytes (bytes / 4)"
    est_share = estimated / total * 100
    real_share = 100 - est_share
    # one decimal only where whole percents would read as 0 % or 100 %
    fmt = "{:.0f}" if 0.5 <= est_share <= 99.5 else "{:.1f}"
    return f"{fmt.format(real_share)} % real, {fmt.format(est_share)} % estimated from bytes"
