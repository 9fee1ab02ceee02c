"""What the coding agents' own logs share (Claude Code, Codex): finding the ``*.jsonl`` files,
the bounded scan of huge lines, the record source that tails them, the registry helpers."""
