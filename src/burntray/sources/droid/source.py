"""The ``droid`` record source: a ``StoreSource`` whose reader keeps parts of its resume state
under keys of their own in burntray's history (``agent_logs.state_parts``)."""

from __future__ import annotations

from burntray.sources.agent_logs.state_parts import PartsSource


class DroidSource(PartsSource):
    """Droid's source: the shared one of a reader with parts (named for its spec)."""
