"""The ``pi-agent`` record source: the shared agent-log source over ``PiLogReader``."""

from __future__ import annotations

from burntray.sources.agent_logs.source import AgentLogSource


class PiSource(AgentLogSource):
    name = "pi-agent"
    label = "pi"
