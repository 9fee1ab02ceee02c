"""The codex source: Codex's session logs (read as the other agent logs are) plus the plan
windows those logs report (``HasLimits``, kept in the history by ``.plan``).

Its own module, not beside ``ClaudeSource`` in ``agent_logs.source``: a claude-only command
then never imports the plan windows' model nor their table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from burntray.model.progress import ScanProgress
from burntray.model.snapshot import UpstreamFact
from burntray.sources.agent_logs.source import AgentLogSource
from burntray.sources.agent_logs.streaming import progress_of
from burntray.sources.codex.plan import PlanLimitsFromLog

if TYPE_CHECKING:
    from burntray.model.pricing import PriceTable
    from burntray.store.history import HistoryStore


class CodexSource(PlanLimitsFromLog, AgentLogSource):
    name = "codex"
    label = "Codex logs"

    def scan_progress(self) -> ScanProgress | None:
        return progress_of(self.label, self.reader.progress)  # type: ignore[attr-defined]

    def facts(self) -> tuple[UpstreamFact, ...]:
        facts = list(super().facts())
        guessed = getattr(self.reader, "fallback_model_turns", 0)
        if guessed:
            facts.append(
                UpstreamFact("Model guessed", f"{guessed} turns without a model priced as gpt-5")
            )
        fast = getattr(self.reader, "fast_tier_turns", 0)
        if fast:
            facts.append(UpstreamFact("Priority tier", f"{fast} turns at the priority price"))
        return tuple(facts)


def codex_source(
    homes: list[Path],
    prices: PriceTable,
    history: HistoryStore | None = None,
    clock_ns: Callable[[], int] = time.time_ns,
    *,
    watch: bool = True,
) -> CodexSource:
    from burntray.sources.codex.logs import CodexLogReader  # noqa: PLC0415

    return CodexSource(CodexLogReader(homes, prices), homes, history, clock_ns, watch=watch)
