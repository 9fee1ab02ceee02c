"""The status line's read of Claude Code's logs: the claude reader's files, line reader,
duplicate removal and prices (``claude.logs``), each request handed on as the five fields the
line's cache keeps (a ``Row``) instead of a full usage record.

A first status line reads every log written in the last 48 hours (a heavy week: 75,000
requests): it reads each file as the claude reader does (``_read_file``, the way a first scan
reads one) and keeps each record's row.
"""

from __future__ import annotations

import os
from pathlib import Path

from burntray.model.usage import UsageRecord
from burntray.sources.claude.logs import ClaudeLogReader

# (ts_ns, cost or None, session, key, tokens): one request as the status line keeps it
Row = tuple[int, float | None, str, str, int]


class RecentReader(ClaudeLogReader):
    """The claude reader, looking only at files written since a cutoff (and named ones)."""

    def read_rows(
        self,
        since_ns: int,
        always: frozenset[str],
        rows: dict[str, Row],
        dedup_since_ns: int | None = None,
    ) -> None:
        """Put the requests new or changed since the last call into ``rows`` (by record key:
        a request whose surviving line changed replaces its row). Files this reader has no
        offset for are read only when written since ``since_ns`` or named in ``always``; those
        written since ``dedup_since_ns`` only, in their place in the order, for duplicate
        removal alone (their requests are not kept, nor their offsets: they stay unread)."""
        present: set[str] = set()
        missing = []
        for finder in self._finders:
            files = finder.find()
            if finder.problem:
                missing.append(finder.problem)
            present.update(files)
            for name in files:
                if self.tailer.unchanged(name):
                    continue
                sink = rows
                if name not in self.tailer.files and name not in always:
                    try:
                        mtime = os.stat(name).st_mtime_ns
                    except OSError:
                        continue
                    if mtime < since_ns:  # not written since: no request of today or this block
                        if dedup_since_ns is None or mtime < dedup_since_ns:
                            continue
                        sink = {}
                self._read_rows(finder.root, Path(name), sink)
                if sink is not rows:
                    self.tailer.files.pop(name, None)
        self.tailer.forget_missing(present)
        self.files_seen = len(present)
        if missing and len(missing) == len(self._finders):
            self.missing = "no Claude Code projects folder: " + "; ".join(missing)

    def _read_rows(self, projects_dir: Path, path: Path, rows: dict[str, Row]) -> None:
        """``ClaudeLogReader._read_file`` (the same parse, duplicate removal, keys and costs),
        keeping rows."""
        records: dict[str, UsageRecord] = {}
        self._read_file(projects_dir, path, records)
        for key, r in records.items():
            total = r.input_tokens + r.output_tokens + r.cache_read_tokens + r.cache_write_tokens
            rows[key] = (r.ts_ns, r.cost_usd, r.session, key, total)
