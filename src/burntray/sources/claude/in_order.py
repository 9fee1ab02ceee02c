"""The part of a Claude Code scan that must see every request in order: duplicate removal and
the records, from a line the reader reads itself or from the rows a reading process sent.

This is a first scan's bottleneck (every request of the history passes here, in one process),
so the common case is written out flat: a line goes from its strict decode straight to its
record, with no row in between, and a message never seen before makes its duplicate group here
(``Dedup.add_fields``'s first test, on the same containers: ``Dedup.indexes``), leaving only
the messages seen before to ``Dedup.add_seen``. What comes out is, record for record and in the
same order, what ``scan_worker.row_reader`` and ``Dedup.add_fields`` give (a test holds the two
ways to the same records, and ``bench/records_hash.py`` a heavy week's).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

import msgspec

from burntray.model.pricing import TIER_THRESHOLD_TOKENS, PriceTable
from burntray.model.rates import Rates, priced, rates_of
from burntray.model.usage import UsageRecord
from burntray.sources.claude import lines
from burntray.sources.claude.dedup import Dedup
from burntray.sources.claude.lines import (
    MAX_BRANCH,
    PROVIDER,
    SYNTHETIC_MODEL,
)
from burntray.sources.claude.scan_worker import Row, checked_row

Out = dict[str, UsageRecord]  # the records read so far, by key
_new = tuple.__new__


class Place:
    """Where the records being kept come from and go to: the file (``name``; ``rel`` below its
    projects folder), its session and project, the records so far (``out``) and what to call
    when they reach ``limit`` (``full``: hand them on)."""

    __slots__ = ("full", "limit", "name", "out", "project", "rel", "session")

    def __init__(  # noqa: PLR0917 - where the records come from and go to
        self,
        name: str,
        rel: str,
        session: str,
        project: str,
        out: Out,
        limit: int,
        full: Callable[[], None] | None,
    ) -> None:
        self.name, self.rel, self.session, self.project = name, rel, session, project
        self.out, self.limit, self.full = out, limit, full


def keep_rows(dedup: Dedup, rows: Iterable[Row], place: Place) -> None:
    """The records of rows read from ``place``'s file, in order, through duplicate removal."""
    groups, exact_of, by_message, spilled = dedup.indexes()
    lookup, until = dedup.lookup, dedup.lookup_until_ns
    add_seen = dedup.add_seen
    out, limit, full = place.out, place.limit, place.full
    rel, session, project = place.rel, place.session, place.project
    intern, new, record = sys.intern, _new, UsageRecord
    for (offset, mid, rid, side, total, speed, ts_ns, model, inp, outp, read, write,
         cost, upstream, branch) in rows:  # fmt: skip
        if mid is None:
            key = f"l:{rel}:{offset}"  # never merged (``Dedup.add``)
        else:
            exact = hash((mid, rid))
            message = hash(mid)
            if (
                exact not in exact_of
                and message not in by_message
                and message not in spilled
                and (lookup is None or ts_ns > until)
            ):  # ``Dedup.add_fields``'s new message
                key = f"m:{mid}:{rid or ''}"
                exact_of[exact] = by_message[message] = len(groups)
                groups.append([key, exact, side, total, speed, message, ts_ns, exact])
            else:
                kept = add_seen(mid, rid, side, total, speed, ts_ns, exact)
                if kept is None:
                    continue
                key = kept
        # one string per model (interned), not one per record: a batch holds 20,000
        out[key] = new(record, (ts_ns, PROVIDER, intern(model), inp, outp, read, write, cost,
                                key, session, project, upstream, branch))  # fmt: skip
        if full is not None and len(out) >= limit:
            full()


def line_keeper(
    dedup: Dedup, prices: PriceTable, skip: Callable[[str], None], place: Place
) -> Callable[[bytes, int], None]:
    """A line handler for ``place``'s file read here: each usable line's record through
    duplicate removal into ``place.out``; a malformed line is told to ``skip``. The same records
    as ``scan_worker.row_reader``'s rows given to ``keep_rows``, without the rows."""
    strict, good, version_ok = lines.STRICT.decode, lines.GOOD_VERSIONS, lines.version_ok
    epoch, tier = lines.EPOCH, TIER_THRESHOLD_TOKENS
    groups, exact_of, by_message, spilled = dedup.indexes()
    lookup, until = dedup.lookup, dedup.lookup_until_ns
    add_seen = dedup.add_seen
    out, limit, full = place.out, place.limit, place.full
    name, rel, session, project = place.name, place.rel, place.session, place.project
    intern, new, record = sys.intern, _new, UsageRecord
    cache: dict[str, Rates | None] = {}
    # per model name as read: (the one string kept for it, its rates); a line looks it up once
    models: dict[str, tuple[str, Rates | None]] = {"": ("", None)}

    def rates(model: str) -> Rates | None:
        if model not in cache:
            cache[model] = rates_of(prices.lookup(PROVIDER, model))
        return cache[model]

    def first_seen(model: str) -> tuple[str, Rates | None]:
        found = models[model] = (intern(model), rates(model))
        return found

    def checked(line: bytes, offset: int) -> None:
        """A line the strict types refused: malformed, to be skipped, or one only the
        field-by-field checks take (``scan_worker.row_reader``'s way)."""
        found = checked_row(line, offset, name=name, skip=skip, rates=rates, cache=cache)
        if found is not None:
            keep_rows(dedup, [found], place)

    def on_line(line: bytes, offset: int) -> None:
        try:
            raw = strict(line)
        except msgspec.DecodeError:
            checked(line, offset)
            return
        version = raw.version
        if version is not None and version not in good and not version_ok(version):
            return
        msg = raw.message
        usage = msg.usage
        model = msg.model
        if model is None or model == SYNTHETIC_MODEL:
            model = ""
        named = models.get(model)
        model, known = first_seen(model) if named is None else named
        inp, outp = usage.input_tokens, usage.output_tokens
        write, read = usage.cache_creation_input_tokens, usage.cache_read_input_tokens
        total = inp + outp + write + read
        speed = usage.speed
        cost: float | None = raw.cost_usd
        upstream = cost is not None
        if not upstream:
            if known is None:
                cost = 0.0 if total == 0 else None
            else:
                split = usage.cache_creation
                w5m, w1h = (write, 0) if split is None else (
                    split.ephemeral_5m_input_tokens, split.ephemeral_1h_input_tokens)  # fmt: skip
                if inp > tier or outp > tier or read > tier or w5m > tier or w1h > tier:
                    cost = priced(known, inp, outp, w5m, w1h, read, speed == "fast")
                else:  # ``priced``'s sum below the tier, term for term (the same float)
                    (_price, r_in, r_out, r_5m, r_1h, r_read, r_fast,
                     _in_above, _out_above, _5m_above, _1h_above, _read_above) = known  # fmt: skip
                    cost = (
                        (inp * r_in + outp * r_out + w5m * r_5m + w1h * r_1h + read * r_read)
                        * (r_fast if speed == "fast" else 1.0)
                        / 1_000_000
                    )
        # ``(timestamp - EPOCH) // ONE_US * 1000`` from the delta's fields (the same int: a
        # timedelta is normalised), without two conversions to microseconds in a division
        delta = raw.timestamp - epoch
        ts_ns = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
        mid = msg.id
        if mid is None:
            key = f"l:{rel}:{offset}"  # never merged (``Dedup.add``)
        else:
            rid = raw.request_id
            side = raw.is_sidechain is True
            exact = hash((mid, rid))
            message = hash(mid)
            if (
                exact not in exact_of
                and message not in by_message
                and message not in spilled
                and (lookup is None or ts_ns > until)
            ):  # ``Dedup.add_fields``'s new message
                key = f"m:{mid}:{rid or ''}"
                exact_of[exact] = by_message[message] = len(groups)
                groups.append([key, exact, side, total, speed is not None, message, ts_ns, exact])
            else:
                kept = add_seen(mid, rid, side, total, speed is not None, ts_ns, exact)
                if kept is None:
                    return
                key = kept
        branch = raw.git_branch
        out[key] = new(record, (
            ts_ns, PROVIDER, model, inp, outp, read, write, cost, key, session, project,
            upstream, branch[:MAX_BRANCH] if isinstance(branch, str) else "",
        ))  # fmt: skip
        if full is not None and len(out) >= limit:
            full()

    return on_line
