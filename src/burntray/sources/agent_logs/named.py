"""The record source of an agent that needs nothing of its own beyond a name, a label and the
files whose writes wake it: named when built, so such an agent has no source module."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from burntray.sources.agent_logs.source import AgentLogSource, LogReader

if TYPE_CHECKING:
    from burntray.store.history import HistoryStore


class NamedLogSource(AgentLogSource):
    """An ``AgentLogSource`` named per agent (Qwen Code, Kimi, pi, OpenClaw; ``StoreSource``)."""

    def __init__(  # noqa: PLR0917 - the agent's names, then what every record source takes
        self,
        name: str,
        label: str,
        reader: LogReader,
        folders: list[Path],
        history: HistoryStore | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        *,
        watch: bool = True,
        watch_suffixes: tuple[str, ...] = (".jsonl",),
    ) -> None:
        self.name = name
        self.label = label
        self.watch_suffixes = watch_suffixes
        super().__init__(reader, folders, history, clock_ns, watch=watch)
