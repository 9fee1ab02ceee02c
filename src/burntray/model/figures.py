"""One source's share of a combined (``all``) snapshot: a module of its own, loaded by the
``all`` source, not by a one-source command (``Snapshot`` names it only in an annotation, and
one source's JSON row is written without it)."""

from __future__ import annotations

from msgspec import Struct, field

from burntray.model.snapshot import SourceStatus, Totals


class SourceFigures(Struct, frozen=True):
    """One source's share of a combined (``all``) snapshot.

    ``covered_by`` names the source whose figures were counted instead, when both report the same
    upstream (then this one's are shown but not added).
    """

    source: str
    label: str
    status: SourceStatus
    totals: Totals = field(default_factory=Totals)
    tokens_estimated: bool = False
    covered_by: str = ""
    cost_estimated: bool = False  # as Snapshot.cost_estimated: "est." beside its cost
