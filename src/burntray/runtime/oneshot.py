"""One reading of a source for the commands that read once and exit (``status``, ``report``).

The tray's monitor keeps a source alive, with burntray's history attached from the start; a
one-shot command starts cold. So that both show the same figures, a one-shot reading adds the
history whenever the live data cannot answer the window alone: the window reaches back before
what the upstream still holds (``needs_history``), or the upstream cannot be read at all (an
unhealthy status), in which case the history holds the last good figures, shown as stale. The
rule is the same for every source: a source added later gets it by implementing
``needs_history`` and ``attach_history``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from burntray.model.snapshot import Snapshot, stale_if_from_history
from burntray.sources.base import Source
from burntray.store.history import HistoryStore


def read_once(
    source: Source,
    window_ns: int,
    history: Callable[[], HistoryStore | None],
    clock_ns: Callable[[], int] = time.time_ns,
) -> Snapshot:
    """Poll ``source`` once and return its Snapshot of ``[now - window, now]``, ``now`` read
    after the poll (a daemon's answer may take a while); it is the Snapshot's ``as_of_ns``.

    ``history`` opens burntray's history (None when it is unusable); it is called only when the
    source needs it.
    """
    source.poll()
    now_ns = clock_ns()
    if not source.status.healthy or source.needs_history(window_ns, now_ns):
        store = history()
        if store is not None:
            source.attach_history(store)
    return stale_if_from_history(source.snapshot(window_ns, now_ns))
