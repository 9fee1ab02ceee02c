"""Removing Claude Code's duplicate log lines as they are read: which line stands for a request
(the rules are in ``claude.lines``), kept within bounded memory and compacted over time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from burntray.sources.claude.lines import ClaudeEntry

# Fields of a dedup group (a list, mutated in place: a scan makes ~100k of them).
_KEY, _EXACT, _SIDECHAIN, _TOTAL, _SPEED, _MESSAGE, _TS = range(7)


class Dedup:
    """Incremental duplicate removal across all files (the rules: ``claude.lines``'s docstring).

    ``add`` returns the group key and the entry now standing for it when the entry is new or
    replaces the group's previous one, else None (a smaller or replayed duplicate).

    Memory is what bounds a scan of a GB of logs, so a group keeps only what the rules compare
    (its key, the hash of its current message/request id pair, sidechain, token total, speed
    stated, message hash, time) and the indexes map 64-bit hashes, not the ids (a false match
    needs a 64-bit hash collision between two ids of the same user).

    Groups do not live forever (a tray runs for weeks): ``compact`` drops those older than a
    cutoff. Requests the groups no longer know (dropped, or read before a restart) are found
    through ``lookup`` - the history, by message id: [(request id, token total)] - for entries
    up to ``lookup_until_ns``; newer entries are new requests and never cost a query.
    """

    def __init__(self) -> None:
        self._groups: list[list[object]] = []
        self._exact: dict[int, int] = {}
        self._by_message: dict[int, int | list[int]] = {}
        self.lookup: Callable[[str], list[tuple[str, int]]] | None = None
        self.lookup_until_ns = -(2**63)
        self._asked: set[int] = set()

    def __len__(self) -> int:
        return len(self._groups)

    def add(self, entry: ClaudeEntry, fallback_key: str) -> tuple[str, ClaudeEntry] | None:
        mid = entry.message_id
        if mid is None:
            return fallback_key, entry
        rid = entry.request_id
        exact = hash((mid, rid))
        groups = self._groups
        found = self._exact.get(exact)
        if found is not None and groups[found][_EXACT] != exact:
            found = None  # that group's surviving line has another request id now
        message = hash(mid)
        if (
            found is None
            and self.lookup is not None
            and entry.ts_ns <= self.lookup_until_ns
            and message not in self._asked
            and message not in self._by_message
        ):
            self._asked.add(message)
            for known_rid, known_total in self.lookup(mid):
                self._seed(mid, known_rid, known_total, entry.ts_ns)
            found = self._exact.get(exact)
        if found is None:
            candidates = self._by_message.get(message)
            if candidates is not None:
                for index in candidates if isinstance(candidates, list) else (candidates,):
                    if entry.sidechain or groups[index][_SIDECHAIN]:
                        found = index
                        break
        total = entry.total
        if found is not None:
            group = groups[found]
            sidechain, group_total = group[_SIDECHAIN], group[_TOTAL]
            if entry.sidechain != sidechain:
                replace = bool(sidechain)
            elif total != group_total:
                replace = total > group_total  # type: ignore[operator]
            else:
                replace = entry.has_speed and not group[_SPEED]
            if not replace:
                return None
            group[_EXACT : _SPEED + 1] = [exact, entry.sidechain, total, entry.has_speed]
            self._exact[exact] = found
            return str(group[_KEY]), entry
        key = f"m:{mid}:{rid or ''}"
        self._add_group([key, exact, entry.sidechain, total, entry.has_speed, message, entry.ts_ns])
        return key, entry

    def _seed(self, mid: str, rid: str, total: int, ts_ns: int) -> None:
        """A request the history has (taken as the parent's: the history does not say)."""
        rid_or_none = rid or None
        self._add_group(
            [f"m:{mid}:{rid}", hash((mid, rid_or_none)), False, total, False, hash(mid), ts_ns]
        )

    def _add_group(self, group: list[object]) -> None:
        index = len(self._groups)
        self._groups.append(group)
        self._index(index, group)

    def _index(self, index: int, group: list[object]) -> None:
        self._exact[group[_EXACT]] = index  # type: ignore[index]
        message: int = group[_MESSAGE]  # type: ignore[assignment]
        known = self._by_message.get(message)
        if known is None:
            self._by_message[message] = index
        elif isinstance(known, list):
            known.append(index)
        else:
            self._by_message[message] = [known, index]

    def compact(self, cutoff_ns: int) -> int:
        """Forget the groups of requests before ``cutoff_ns`` (the history still has them, and
        ``lookup`` finds them again); returns how many were dropped."""
        kept = [g for g in self._groups if g[_TS] >= cutoff_ns]  # type: ignore[operator]
        dropped = len(self._groups) - len(kept)
        if dropped:
            self._groups = kept
            self._exact = {}
            self._by_message = {}
            for index, group in enumerate(kept):
                self._index(index, group)
            self._asked = set()
            self.lookup_until_ns = max(self.lookup_until_ns, cutoff_ns + LOOKUP_MARGIN_NS)
        return dropped


# A streaming rewrite or a replay comes within minutes of its request: an entry up to this long
# after the forgotten ones may still belong to one of them.
LOOKUP_MARGIN_NS = 3600 * 10**9
