"""The ``kimi`` record source: the shared agent-log source over ``KimiLogReader``."""

from __future__ import annotations

from burntray.sources.agent_logs.source import AgentLogSource


class KimiSource(AgentLogSource):
    name = "kimi"
    label = "Kimi CLI"
