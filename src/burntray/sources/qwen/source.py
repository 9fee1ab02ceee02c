"""The ``qwen`` record source: the shared agent-log source over ``QwenLogReader``."""

from __future__ import annotations

from burntray.sources.agent_logs.source import AgentLogSource


class QwenSource(AgentLogSource):
    name = "qwen"
    label = "Qwen Code"
