"""The ``droid`` record source: a ``StoreSource`` whose reader keeps parts of its resume state
under keys of their own in burntray's history (``.files.Parts``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from burntray.sources.agent_logs.stores import StoreSource
from burntray.store.history import RESUME_STATE_PREFIX

if TYPE_CHECKING:
    from burntray.sources.droid.reader import DroidReader
    from burntray.store.history import HistoryStore


class DroidSource(StoreSource):
    def attach_history(self, history: HistoryStore) -> None:
        if self._events is None:
            # before the index is read (``super``): the parts it names are read from there
            parts = cast("DroidReader", self.store_reader).parts
            parts.prefix = f"{RESUME_STATE_PREFIX}{self.name}/"
            parts.fetch = history.get_meta
            parts.store = history.set_meta
        super().attach_history(history)
