"""yoi's JSONL logs read by byte offset: torn lines, interleaved appenders, legacy lines."""

from __future__ import annotations

import os
from pathlib import Path

from burntray.sources.yoi.logs import (
    FileTail,
    TailState,
    exposure_summary,
    objects_in,
    parse_memory_lines,
    parse_segment_lines,
    read_lines,
)
from burntray.sources.yoi.paths import yoi_data_dir
from tests.store_writers import yoi_append

TS = 1_790_000_000_000


def usage(
    ts: int, total_in: int = 1000, out: int = 50, cread: int = 600, cwrite: int = 100
) -> dict:
    return {
        "hash": "ab" * 32,
        "prev_hash": None,
        "kind": "llm_usage",
        "ts": ts,
        "history_len": 3,
        "input_total_tokens": total_in,
        "cache_read_tokens": cread,
        "cache_write_tokens": cwrite,
        "output_tokens": out,
    }


def start(model: str) -> dict:
    return {
        "kind": "session_start",
        "ts": TS,
        "system_prompt": None,
        "config": {"model": model, "max_tokens": 1024},
        "history": [],
    }


def read_usage(tail: FileTail) -> tuple[list, int]:
    chunk = read_lines(tail)
    return parse_segment_lines(tail, "s1", "seg1", chunk.lines)


def test_data_dir_rules(tmp_path: Path) -> None:
    home = str(tmp_path)
    assert yoi_data_dir({"HOME": home}) == tmp_path / ".local/share/yoi"
    assert yoi_data_dir({"HOME": home, "XDG_DATA_HOME": "/x"}) == Path("/x/yoi")
    assert yoi_data_dir({"HOME": home, "XDG_DATA_HOME": "/x", "YOI_HOME": "/h"}) == Path("/h")
    env = {"HOME": home, "YOI_HOME": "/h", "YOI_DATA_DIR": "/d"}
    assert yoi_data_dir(env) == Path("/d")


def test_tail_reads_whole_lines_only_and_resumes(tmp_path: Path) -> None:
    log = tmp_path / "seg1.jsonl"
    yoi_append(log, start("anthropic/claude-sonnet-4-5"))
    yoi_append(log, usage(TS + 1))
    yoi_append(log, usage(TS + 2), newline=False)  # the newline is not written yet
    tail = FileTail(log)
    records, bad = read_usage(tail)
    assert [r.ts_ns for r in records] == [(TS + 1) * 1_000_000]
    assert bad == 0
    rec = records[0]
    assert (rec.provider, rec.model) == ("anthropic", "anthropic/claude-sonnet-4-5")
    # input_total includes cache reads and writes: uncached = 1000 - 600 - 100
    assert (rec.input_tokens, rec.cache_read_tokens, rec.cache_write_tokens) == (300, 600, 100)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.write(fd, b"\n")
    os.close(fd)
    records, _ = read_usage(tail)
    assert [r.ts_ns for r in records] == [(TS + 2) * 1_000_000]
    assert read_usage(tail) == ([], 0)  # nothing new

    # resume from saved state in a fresh reader: nothing is read twice
    state = TailState.load(TailState(tails={str(log): tail}).dump())
    again = state.tails[str(log)]
    yoi_append(log, usage(TS + 3))
    records, _ = read_usage(again)
    assert [r.ts_ns for r in records] == [(TS + 3) * 1_000_000]
    assert records[0].model == "anthropic/claude-sonnet-4-5"


def test_interleaved_appenders_are_split_back(tmp_path: Path) -> None:
    """Two writers whose text and newline writes interleaved: ``{A}{B}\\n\\n``."""
    log = tmp_path / "seg1.jsonl"
    yoi_append(log, usage(TS + 1), newline=False)
    yoi_append(log, usage(TS + 2, out=7), newline=False)
    yoi_append(log, None, raw="", newline=True)
    yoi_append(log, None, raw="", newline=True)
    # a writer that died mid-line, then a good line on the same line
    yoi_append(log, None, raw='{"kind":"llm_usage","ts":17', newline=False)
    yoi_append(log, usage(TS + 3))
    yoi_append(log, None, raw="not json at all {", newline=True)
    records, bad = read_usage(FileTail(log))
    assert [(r.ts_ns // 1_000_000, r.output_tokens) for r in records] == [
        (TS + 1, 50),
        (TS + 2, 7),
        (TS + 3, 50),
    ]
    assert bad == 0  # the garbage line does not mention llm_usage: not even looked at
    assert len({r.offset for r in records}) == 2  # A and B share a line


def test_replaced_or_truncated_file_is_read_from_the_start(tmp_path: Path) -> None:
    log = tmp_path / "seg1.jsonl"
    yoi_append(log, usage(TS + 1))
    yoi_append(log, usage(TS + 2))
    tail = FileTail(log)
    assert len(read_usage(tail)[0]) == 2
    log.write_bytes(b"")
    yoi_append(log, usage(TS + 9))
    assert [r.ts_ns // 1_000_000 for r in read_usage(tail)[0]] == [TS + 9]


def test_objects_in() -> None:
    assert list(objects_in(b'{"a":1}')) == [{"a": 1}]
    assert list(objects_in(b'{"a":1}{"b":2}')) == [{"a": 1}, {"b": 2}]
    assert list(objects_in(b'{"a":{"b"{"c":3}')) == [{"c": 3}]
    assert list(objects_in(b"\xff\xfe")) == []


def test_memory_log_is_telemetry_with_legacy_lines(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    for i, event in enumerate(("resident_exposure", "resident_exposure", "use")):
        yoi_append(
            log,
            {
                "id": f"019e2000-0000-7000-8000-00000000000{i}",
                "occurred_at": f"2026-06-01T08:00:0{i}.123456789Z",
                "segment_id": "seg-1",
                "event": event,
                "source": "ResidentInjection" if event != "use" else "MemoryRead",
                "records": [
                    {
                        "kind": "summary",
                        "slug": "summary",
                        "file_bytes": 4100 + i,
                        "file_tokens_estimate": 1025 + i,
                    }
                ],
            },
        )
    yoi_append(
        log,
        {
            "id": "x",
            "occurred_at": "2026-06-01T08:00:05Z",
            "session_id": "old",
            "event": "use",
            "source": "WorkflowInvoke",
            "records": [
                {"kind": "workflow", "slug": "w", "file_bytes": 4, "file_tokens_estimate": 1}
            ],
        },
    )
    yoi_append(log, None, raw='{"id":"torn","occurred_at":"2026-06-01T08', newline=True)
    events, legacy, bad = parse_memory_lines(read_lines(FileTail(log)).lines)
    assert (len(events), legacy, bad) == (3, 1, 1)
    assert events[0].ts_ns % 1_000_000_000 == 123_456_789
    start_ns = events[0].ts_ns
    uses, exposure = exposure_summary(events, start_ns, start_ns + 10**10)
    # two exposures of one record, its last estimate 1026: 2 x 1026
    assert (uses, exposure) == (1, 2 * 1026)
