"""yoi: burntray's figures equal the llm_usage lines real appender processes wrote (O_APPEND, text
and newline as separate writes, several processes on one file), read while they write."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import pytest

from burntray.model.pricing import build_price_table
from burntray.paths import yoi_data_dir
from burntray.sources.yoi.source import YoiSource
from burntray.store.history import HistoryStore
from tests.store_writers import WriterProcess, yoi_append

MS = 1_000_000
BASE = 1_790_000_000_000
MODEL = "claude-sonnet-4-5"


def usage(ts: int, rng: random.Random) -> dict[str, object]:
    cread, cwrite = rng.randrange(0, 5000), rng.randrange(0, 800)
    return {
        "hash": f"{rng.getrandbits(256):064x}",
        "prev_hash": None,
        "kind": "llm_usage",
        "ts": ts,
        "history_len": rng.randrange(1, 50),
        "input_total_tokens": cread + cwrite + rng.randrange(1, 3000),
        "cache_read_tokens": cread,
        "cache_write_tokens": cwrite,
        "output_tokens": rng.randrange(1, 900),
    }


def session_start(model: str) -> dict[str, object]:
    return {
        "hash": "00" * 32,
        "prev_hash": None,
        "kind": "session_start",
        "ts": BASE,
        "system_prompt": "You are helpful.",
        "config": {"model": model, "max_tokens": 4096},
        "history": [{"type": "message", "role": "user", "content": "x" * 5000}],
    }


def expected(lines: list[dict[str, object]], start_ms: int, end_ms: int) -> tuple[int, ...]:
    """(requests, uncached input, output, cache reads, cache writes) of lines with
    ``start <= ts <= end`` (the record window includes its end instant)."""
    out = [0, 0, 0, 0, 0]
    for line in lines:
        ts = int(line["ts"])
        if start_ms <= ts <= end_ms:
            cread, cwrite = int(line["cache_read_tokens"]), int(line["cache_write_tokens"])
            out[0] += 1
            out[1] += int(line["input_total_tokens"]) - cread - cwrite
            out[2] += int(line["output_tokens"])
            out[3] += cread
            out[4] += cwrite
    return tuple(out)


def figures(source: YoiSource, start_ms: int, end_ms: int) -> tuple[int, ...]:
    snap = source.snapshot((end_ms - start_ms) * MS, end_ms * MS)
    t = snap.totals
    return (t.reqs, t.input_tokens, t.output_tokens, t.cache_read_tokens, t.cache_write_tokens)


@pytest.fixture
def data_dir(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("YOI_DATA_DIR", str(isolated_env / "yoi-data"))
    return yoi_data_dir()


def test_parity_with_concurrent_appenders_read_while_writing(
    data_dir: Path, tmp_path: Path
) -> None:
    segment = data_dir / "sessions" / "sess-1" / "seg-1.jsonl"
    yoi_append(segment, session_start(MODEL))
    rng = random.Random(3)
    written: list[dict[str, object]] = []
    bursts = []
    for _ in range(3):
        # enough lines that the three processes' writes interleave (hundreds of
        # "{A}{B}\n\n" lines on this machine)
        objs = [usage(BASE + rng.randrange(0, 3_600_000), rng) for _ in range(2000)]
        written += objs
        bursts.append(objs)
    # and, for certain, one interleaved pair and a torn line in another segment
    other = data_dir / "sessions" / "sess-2" / "seg-1.jsonl"
    yoi_append(other, session_start(MODEL))
    pair = [usage(BASE + 10, rng), usage(BASE + 11, rng)]
    yoi_append(other, pair[0], newline=False)
    yoi_append(other, pair[1], newline=False)
    yoi_append(other, None, raw="\n")
    yoi_append(other, None, raw='{"hash":"ab","kind":"llm_us', newline=False)
    written += pair
    history = HistoryStore(tmp_path / "history.sqlite3")
    source = YoiSource(data_dir, build_price_table(), history=history, clock_ns=lambda: BASE * MS)
    writers = [WriterProcess("yoi", segment) for _ in range(3)]
    try:
        for writer, objs in zip(writers, bursts, strict=True):
            writer.start(op="burst", objs=objs)
        for _ in range(50):  # read while they append: torn last lines are left for later
            source.poll()
        for writer in writers:
            writer.wait("burst")
    finally:
        for writer in writers:
            writer.close()
    source.poll()
    for start, end in (
        (BASE, BASE + 3_600_000),
        (BASE + 600_000, BASE + 1_200_000),
        (BASE + 600_001, BASE + 1_199_999),
    ):
        assert figures(source, start, end) == expected(written, start, end)
    snap = source.snapshot(3600 * 10**9, (BASE + 3_600_000) * MS)
    assert snap.status.state == "ok"
    assert not any(f.label == "unreadable lines skipped" for f in snap.facts)
    price = build_price_table().lookup("anthropic", MODEL)
    assert price is not None
    cost = sum(
        price.cost_tokens(
            int(o["input_total_tokens"])
            - int(o["cache_read_tokens"])
            - int(o["cache_write_tokens"]),
            int(o["output_tokens"]),
            int(o["cache_read_tokens"]),
            int(o["cache_write_tokens"]),
        )
        for o in written
    )
    assert snap.totals.cost_usd == pytest.approx(cost)
    assert snap.totals.unpriced_reqs == 0

    source.poll()  # nothing new: the offsets are not rewritten
    assert source.save_state() is None

    # a restart resumes from the saved offsets: nothing counted twice, new lines counted
    more = [usage(BASE + 5, rng) for _ in range(3)]
    yoi_append(segment, more[0])
    again = YoiSource(data_dir, build_price_table(), history=history, clock_ns=lambda: BASE * MS)
    again.poll()
    yoi_append(segment, more[1])
    again.poll()
    assert figures(again, BASE, BASE + 3_600_000) == expected(
        written + more[:2], BASE, BASE + 3_600_000
    )


def test_unknown_model_is_unpriced_and_bad_lines_are_counted(data_dir: Path) -> None:
    rng = random.Random(9)
    segment = data_dir / "sessions" / "s2" / "seg.jsonl"
    yoi_append(segment, {"kind": "session_start", "ts": BASE, "config": {}, "history": []})
    yoi_append(segment, usage(BASE + 1, rng))
    yoi_append(segment, None, raw='{"kind":"llm_usage","ts":"soon"}')
    yoi_append(segment, None, raw='{"kind":"llm_usage","ts":12, "input_total_tok')
    yoi_append(segment, usage(BASE + 2, rng))
    source = YoiSource(data_dir, build_price_table(), clock_ns=lambda: BASE * MS)
    source.poll()
    snap = source.snapshot(60 * 10**9, (BASE + 10) * MS)
    assert snap.totals.reqs == 2
    assert snap.totals.unpriced_reqs == 2
    assert snap.totals.cost_usd == 0.0
    assert [r.cost_usd for r in snap.by_model] == [None]
    assert ("unreadable lines skipped", "2") in [(f.label, f.value) for f in snap.facts]


def test_memory_exposure_is_a_fact_never_spend(data_dir: Path, tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    log = workspace / ".yoi" / "memory" / "_usage" / "events.jsonl"
    for i in range(3):
        yoi_append(
            log,
            {
                "id": f"019e2000-0000-7000-8000-00000000000{i}",
                "occurred_at": "2026-09-21T10:00:00.5Z",
                "segment_id": "seg-1",
                "event": "resident_exposure",
                "source": "ResidentInjection",
                "records": [
                    {
                        "kind": "summary",
                        "slug": "summary",
                        "file_bytes": 4000,
                        "file_tokens_estimate": 1000,
                    }
                ],
            },
        )
    (data_dir / "sessions").mkdir(parents=True)
    now_ns = 1_790_000_000 * 10**9  # 2026-09-21T...; the events are inside a 7 d window
    source = YoiSource(data_dir, build_price_table(), [workspace], clock_ns=lambda: now_ns)
    source.poll()
    snap = source.snapshot(7 * 86_400 * 10**9, now_ns)
    assert snap.totals.reqs == 0 and snap.totals.tokens == 0 and snap.totals.cost_usd == 0
    facts = {f.label: f.value for f in snap.facts}
    assert facts["memory exposure (estimated, not spend)"].startswith("~3")  # 3 x 1000


def test_missing_and_wrong_data_dir(data_dir: Path) -> None:
    source = YoiSource(data_dir, build_price_table(), clock_ns=lambda: BASE * MS)
    source.poll()
    assert source.status.state == "empty"
    assert str(data_dir) in source.status.detail
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    data_dir.write_text("a file where yoi's data dir should be")
    source.poll()
    assert source.status.state == "error"
    assert "not a directory" in source.status.detail
    data_dir.unlink()
    data_dir.mkdir()
    (data_dir / "sessions").write_text("a file where the sessions folder should be")
    source.poll()
    assert source.status.state == "error"
    assert "sessions" in source.status.detail and "not a directory" in source.status.detail


def test_special_files_are_skipped_without_hanging(data_dir: Path) -> None:
    rng = random.Random(1)
    sessions = data_dir / "sessions" / "s"
    sessions.mkdir(parents=True)
    os.mkfifo(sessions / "fifo.jsonl")
    (sessions / "dir.jsonl").mkdir()
    yoi_append(sessions / "ok.jsonl", usage(BASE, rng))
    before = sorted(p.name for p in sessions.iterdir())
    digest = hashlib.sha256((sessions / "ok.jsonl").read_bytes()).hexdigest()
    source = YoiSource(data_dir, build_price_table(), clock_ns=lambda: BASE * MS)
    source.poll()
    assert source.snapshot(60 * 10**9, (BASE + 1) * MS).totals.reqs == 1
    assert sorted(p.name for p in sessions.iterdir()) == before  # nothing created in yoi's
    assert hashlib.sha256((sessions / "ok.jsonl").read_bytes()).hexdigest() == digest
