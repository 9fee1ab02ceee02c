"""Sources: one upstream each, yielding snapshots and statuses, never raising into the monitor.

Layout: each source is a package, ``sources/<name>/``, whose ``__init__`` is its registry entry
(``SPEC``: config keys, probe, doctor lines, charts) and whose modules read the upstream;
``agent_logs/`` is what the Claude Code and Codex log sources share and ``all/`` sums every
source present. Beside them: ``base`` (the ``Source`` protocol and ``SourceContext``), ``spec``
(what a registry entry is), ``registry`` (the one list of built-in sources), ``build``
(a source by name, ``auto`` included) and ``record_source`` (the shared half of the sources that
keep per-request records). Infrastructure they use (watching, tailing, locks, read-only SQLite)
is in ``burntray.io``.
"""
