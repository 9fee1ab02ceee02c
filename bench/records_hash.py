"""The records a Claude Code log reader hands on, as a hash, and the CPU it took to read them.

    .venv/bin/python bench/records_hash.py CLAUDE_CONFIG_DIR [WORKERS]

Reads the folder's ``projects`` tree as a first scan does (``ClaudeLogReader.read_new`` with a
``flush`` that takes each batch as written), in this one process by default (WORKERS 0), and
prints: the records handed on, a hash of them in the order they came (batch by batch, every
field), a hash of what an idempotent history keeps of them (the last word per key, by key),
and the CPU seconds (user + sys, this process and its reading processes) the read took. A
change to the reading must leave both hashes as they were: the same records, costs and
duplicate winners, in the same order (issue 22's exactness rule for a faster first scan).
"""

from __future__ import annotations

import hashlib
import resource
import sys
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from burntray.model.pricing import build_price_table  # noqa: E402
from burntray.sources.claude.logs import ClaudeLogReader  # noqa: E402


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def read_and_hash(config: Path, workers: int = 0) -> tuple[int, str, str, float]:
    """(records handed on, hash of them in order, hash of the last word per key, CPU s)."""
    prices = build_price_table()
    reader = ClaudeLogReader([config], prices, workers=workers)
    reader.dedup.lookup = lambda _message_id: []  # nothing written before this read
    encode = msgspec.msgpack.Encoder().encode
    ordered = hashlib.sha256()
    last: dict[str, tuple[object, ...]] = {}
    count = 0

    batches: list[list[tuple[object, ...]]] = []

    def flush(records: list[tuple[object, ...]]) -> bool:
        batches.append(records)  # hashed after the read: its CPU is the reading's alone
        return True

    started = _cpu()
    batches.append(reader.read_new(flush=flush))  # type: ignore[arg-type]
    took = _cpu() - started
    for records in batches:
        count += len(records)
        for record in records:
            ordered.update(encode(tuple(record)))
            last[record[8]] = tuple(record)  # type: ignore[index]
    kept = hashlib.sha256()
    for key in sorted(last):
        kept.update(encode(last[key]))
    return count, ordered.hexdigest(), kept.hexdigest(), took


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    count, ordered, kept, took = read_and_hash(
        Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) == 3 else 0
    )
    print(f"records {count}\nin order {ordered}\nkept {kept} ({took:.3f} s CPU)")


if __name__ == "__main__":
    main()
