"""Removing Claude Code's duplicate log lines as they are read: which line stands for a request
(the rules are in ``claude.lines``), kept within bounded memory and compacted over time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from burntray.sources.claude.lines import ClaudeEntry

# Fields of a dedup group (a list, mutated in place: a scan makes ~100k of them). _FIRST: the
# hash of the id pair its key was made from (_EXACT: of its surviving line's pair).
_KEY, _EXACT, _SIDECHAIN, _TOTAL, _SPEED, _MESSAGE, _TS, _FIRST = range(8)


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

    A long read (the first scan of a GB of logs) cannot hold a group per request of the whole
    history, nor lose any (a fork copies its parent's requests days later): ``spill`` drops
    the old groups whose requests are in the history, keeping only their message hashes and the
    little the history cannot tell (sidechain, speed stated, a surviving line whose request id
    is not the key's), so a message seen again is looked up and rebuilt exactly as it was.
    """

    def __init__(self) -> None:
        self._groups: list[list[object]] = []
        self._exact: dict[int, int] = {}
        self._by_message: dict[int, int | list[int]] = {}
        self.lookup: Callable[[str], list[tuple[str, int]]] | None = None
        self.lookup_until_ns = -(2**63)
        self._asked: set[int] = set()
        # spilled groups: their messages, and what the history does not keep of them
        self._spilled: set[int] = set()
        self._spilled_side: set[int] = set()  # _EXACT of sidechain groups
        self._spilled_speed: set[int] = set()  # _EXACT of groups whose line stated speed
        self._spilled_exact: dict[int, int] = {}  # _FIRST -> _EXACT where they differ

    def __len__(self) -> int:
        return len(self._groups)

    def add(self, entry: ClaudeEntry, fallback_key: str) -> tuple[str, ClaudeEntry] | None:
        mid = entry.message_id
        if mid is None:
            return fallback_key, entry
        key = self.add_fields(
            mid, entry.request_id, entry.sidechain, entry.total, entry.has_speed, entry.ts_ns
        )
        return None if key is None else (key, entry)

    def add_fields(  # noqa: PLR0917 - what the rules compare, as a reading process sends it
        self, mid: str, rid: str | None, sidechain: bool, total: int, has_speed: bool, ts_ns: int
    ) -> str | None:
        """``add`` for a line with message id ``mid`` given by its fields: the group key when
        the line is new or replaces the group's previous one, else None."""
        exact = hash((mid, rid))
        found = self._exact.get(exact)
        message = hash(mid)
        if (
            found is None
            and message not in self._by_message
            and message not in self._spilled
            and (self.lookup is None or ts_ns > self.lookup_until_ns)
        ):
            # A message never seen (nearly every line of a first scan): its own group, as the
            # general path below would make it, without its searches.
            key = f"m:{mid}:{rid or ''}"
            groups = self._groups
            self._exact[exact] = self._by_message[message] = len(groups)
            groups.append([key, exact, sidechain, total, has_speed, message, ts_ns, exact])
            return key
        return self._add_seen(mid, rid, sidechain, total, has_speed, ts_ns, exact, found)

    def _add_seen(  # noqa: PLR0917 - ``add_fields``'s, and what it worked out
        self,
        mid: str,
        rid: str | None,
        sidechain: bool,
        total: int,
        has_speed: bool,
        ts_ns: int,
        exact: int,
        found: int | None,
    ) -> str | None:
        """``add_fields`` for a message seen before (or that the history may know)."""
        groups = self._groups
        message = hash(mid)
        if found is not None and groups[found][_EXACT] != exact:
            found = None  # that group's surviving line has another request id now
        if found is None and message in self._spilled and self.lookup is not None:
            self._unspill(mid, message, ts_ns)
            found = self._exact.get(exact)
        if (
            found is None
            and self.lookup is not None
            and ts_ns <= self.lookup_until_ns
            and message not in self._asked
            and message not in self._by_message
        ):
            self._asked.add(message)
            for known_rid, known_total in self.lookup(mid):
                self._seed(mid, known_rid, known_total, ts_ns)
            found = self._exact.get(exact)
        if found is None:
            candidates = self._by_message.get(message)
            if candidates is not None:
                for index in candidates if isinstance(candidates, list) else (candidates,):
                    if sidechain or groups[index][_SIDECHAIN]:
                        found = index
                        break
        if found is not None:
            group = groups[found]
            group_side, group_total = group[_SIDECHAIN], group[_TOTAL]
            if sidechain != group_side:
                replace = bool(group_side)
            elif total != group_total:
                replace = total > group_total  # type: ignore[operator]
            else:
                replace = has_speed and not group[_SPEED]
            if not replace:
                return None
            group[_EXACT : _SPEED + 1] = [exact, sidechain, total, has_speed]
            self._exact[exact] = found
            return str(group[_KEY])
        key = f"m:{mid}:{rid or ''}"
        self._add_group([key, exact, sidechain, total, has_speed, message, ts_ns, exact])
        return key

    def _seed(self, mid: str, rid: str, total: int, ts_ns: int) -> None:
        """A request the history has (taken as the parent's: the history does not say)."""
        pair = hash((mid, rid or None))
        self._add_group([f"m:{mid}:{rid}", pair, False, total, False, hash(mid), ts_ns, pair])

    def _unspill(self, mid: str, message: int, ts_ns: int) -> None:
        """Rebuild a spilled message's groups: the history has their keys and totals, the
        spill sets the rest."""
        assert self.lookup is not None
        self._spilled.discard(message)
        for rid, total in self.lookup(mid):
            first = hash((mid, rid or None))
            exact = self._spilled_exact.pop(first, first)
            side, speed = exact in self._spilled_side, exact in self._spilled_speed
            self._spilled_side.discard(exact)
            self._spilled_speed.discard(exact)
            self._add_group([f"m:{mid}:{rid}", exact, side, total, speed, message, ts_ns, first])

    def spill(self, cutoff_ns: int) -> int:
        """Drop the groups of messages with no request since ``cutoff_ns`` (their requests
        must be in the history, and ``lookup`` set), remembering what rebuilds them exactly;
        returns how many were dropped."""
        # A long read spills tens of thousands of groups after each batch, nearly all it holds,
        # and each pass over them costs what fetching them from memory costs: one pass finds
        # the few groups that matter (those of requests since the cutoff, and those the history
        # cannot rebuild alone: sidechains, stated speeds, rewrites under another request id);
        # the rest is done from those and from the indexes.
        groups, by_message = self._groups, self._by_message
        marked = [
            g
            for g in groups
            if g[_TS] >= cutoff_ns or g[_SIDECHAIN] or g[_SPEED] or g[_EXACT] != g[_FIRST]  # type: ignore[operator]
        ]
        recent = {g[_MESSAGE] for g in marked if g[_TS] >= cutoff_ns}  # type: ignore[operator]
        held: list[int] = []  # the indexes of the groups of recent messages
        for message in recent:
            found = by_message[message]  # type: ignore[index]
            if isinstance(found, list):
                held += found
            else:
                held.append(found)
        if len(held) == len(groups):
            return 0
        held.sort()  # the groups' own order
        kept = [groups[index] for index in held]
        for g in marked:
            if g[_MESSAGE] not in recent:
                exact = g[_EXACT]
                if g[_SIDECHAIN]:
                    self._spilled_side.add(exact)  # type: ignore[arg-type]
                if g[_SPEED]:
                    self._spilled_speed.add(exact)  # type: ignore[arg-type]
                if exact != g[_FIRST]:
                    self._spilled_exact[g[_FIRST]] = exact  # type: ignore[index,assignment]
        # the spilled messages: every message indexed but the recent ones (the index's keys
        # come with their hashes: nothing is fetched); a recent one spilled before stays so
        spilled = self._spilled
        recent_spilled = spilled.intersection(recent)
        spilled.update(by_message)
        spilled.difference_update(recent)
        spilled.update(recent_spilled)
        return self._keep(kept)

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
        dropped = self._keep(kept)
        if dropped:
            self._asked = set()
            self.lookup_until_ns = max(self.lookup_until_ns, cutoff_ns + LOOKUP_MARGIN_NS)
        return dropped

    def _keep(self, kept: list[list[object]]) -> int:
        dropped = len(self._groups) - len(kept)
        if dropped:
            # in place: a reader's loop holds them (``indexes``) across a batch's spill
            self._groups[:] = kept
            self._exact.clear()
            self._by_message.clear()
            for index, group in enumerate(kept):
                self._index(index, group)
        return dropped

    def indexes(
        self,
    ) -> tuple[list[list[object]], dict[int, int], dict[int, int | list[int]], set[int]]:
        """(groups, exact pair hash -> group, message hash -> group(s), spilled message
        hashes): the containers ``add_fields``'s first test reads, the same objects for this
        Dedup's life, so a reader's loop can make that test itself (``claude.in_order``) and
        call ``add_seen`` only for a message it does not find new."""
        return self._groups, self._exact, self._by_message, self._spilled

    def add_seen(  # noqa: PLR0917 - ``add_fields``'s, and the hash it worked out
        self,
        mid: str,
        rid: str | None,
        sidechain: bool,
        total: int,
        has_speed: bool,
        ts_ns: int,
        exact: int,
    ) -> str | None:
        """``add_fields`` past its first test (``exact`` is ``hash((mid, rid))``)."""
        return self._add_seen(
            mid, rid, sidechain, total, has_speed, ts_ns, exact, self._exact.get(exact)
        )


# A streaming rewrite or a replay comes within minutes of its request: an entry up to this long
# after the forgotten ones may still belong to one of them.
LOOKUP_MARGIN_NS = 3600 * 10**9
