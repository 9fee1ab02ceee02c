"""The status line's read of Claude Code's logs: the claude reader's files, line parser,
duplicate removal and prices (``claude.logs``), each request handed on as the five fields the
line's cache keeps (a ``Row``) instead of a full usage record.

A first status line reads every log written in the last 48 hours (a heavy week: 75,000
requests), so what a request costs beyond its parse counts: building a ``UsageRecord`` and
then the row from it was a sixth of that read; the row is now made straight from the parsed
line, in the same order, with the same key and cost, so the figures are the same.
"""

from __future__ import annotations

import os
from pathlib import Path

from burntray.sources.claude.lines import PROVIDER, entry_cost, parse_line, rates_of
from burntray.sources.claude.logs import ClaudeLogReader, session_parts

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
        """``ClaudeLogReader._read_file``'s loop (the same parse, duplicate removal, keys and
        costs), keeping rows."""
        _project, session = session_parts(projects_dir, path)
        rel = (
            str(path.relative_to(projects_dir)) if path.is_relative_to(projects_dir) else str(path)
        )
        name = str(path)
        add = self.dedup.add
        rates = self._price_cache
        lookup = self.prices.lookup
        skip = self.tailer.skip

        def on_line(line: bytes, offset: int) -> None:
            try:
                entry = parse_line(line)
            except ValueError as exc:
                skip(name, f"{path}@{offset}: {exc}")
                return
            if entry is None:
                return
            kept = add(entry, f"l:{rel}:{offset}")
            if kept is None:
                return
            key = kept[0]
            model = entry.model
            if model and model not in rates:
                rates[model] = rates_of(lookup(PROVIDER, model))
            rows[key] = (entry.ts_ns, entry_cost(entry, rates)[0], session, key, entry.total)

        self.tailer.read(path, on_line)
