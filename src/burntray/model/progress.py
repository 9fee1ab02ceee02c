"""How far a long read has got: "reading Claude Code logs: 41 % (2.1 of 5.2 GB)". Pure."""

from __future__ import annotations

from msgspec import Struct


class ScanProgress(Struct, frozen=True):
    """A source's long read under way: bytes done of the bytes it has to read."""

    label: str  # the source, for people: "Claude Code logs"
    done_bytes: int
    total_bytes: int

    @property
    def percent(self) -> int:
        if self.total_bytes <= 0:
            return 0
        return min(100, max(0, self.done_bytes * 100 // self.total_bytes))


def _amount(n: int, scale: float) -> str:
    value = n / scale
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def progress_text(progress: ScanProgress) -> str:
    """ "reading Claude Code logs: 41 % (2.1 of 5.2 GB)" (MB below a GB; decimal units, as
    file managers count)."""
    unit, scale = ("GB", 1e9) if progress.total_bytes >= 1e9 else ("MB", 1e6)
    done = _amount(min(progress.done_bytes, progress.total_bytes), scale)
    total = _amount(progress.total_bytes, scale)
    return f"reading {progress.label}: {progress.percent} % ({done} of {total} {unit})"
