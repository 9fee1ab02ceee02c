"""The ``openclaw`` record source: the shared agent-log source over ``OpenClawLogReader``."""

from __future__ import annotations

from burntray.sources.agent_logs.source import AgentLogSource


class OpenClawSource(AgentLogSource):
    name = "openclaw"
    label = "OpenClaw"
    # a write to any file of the sessions folders wakes it: the copies a reset leaves
    # (".jsonl.reset.<time>") have no fixed suffix, and the folders hold nothing else
    watch_suffixes = ("",)
