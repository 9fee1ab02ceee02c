"""A log line too long to hold: its usage is read out of it in pieces, exactly as if whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from burntray.model.pricing import build_price_table
from burntray.sources.agent_logs.scan import UsageScan
from burntray.sources.claude.logs import ClaudeLogReader, parse_line
from tests.agent_logs_support import claude_line

SONNET = "claude-sonnet-4-5-20250929"


def _small_cap(reader: ClaudeLogReader, *, chunk_bytes: int, max_line: int) -> None:
    """The reader's own tailer, with a cap a test can go over cheaply."""
    reader.tailer.chunk_bytes = chunk_bytes
    reader.tailer.max_line = max_line


def _scan(line: bytes, piece: int) -> bytes | None:
    scan = UsageScan()
    for i in range(0, len(line), piece):
        scan.feed(line[i : i + piece])
    return scan.result()


def _same(line: bytes) -> None:
    """The scan's small line decodes to what the whole line decodes to, however it is cut."""
    try:
        whole = parse_line(line)
    except ValueError:
        whole = None
    for piece in (1, 2, 5, 64, len(line) or 1):
        small = _scan(line, piece)
        assert (parse_line(small) if small is not None else None) == whole, piece


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    noise=st.dictionaries(st.sampled_from(["content", "toolUseResult", "x", "message"]), _json),
    tokens=st.tuples(*[st.integers(0, 10**7)] * 4),
    cost=st.one_of(st.none(), st.floats(0, 100)),
    text=st.text(max_size=200),
    sidechain=st.booleans(),
)
def test_the_scan_reads_a_line_as_the_reader_does(
    noise: dict[str, object],
    tokens: tuple[int, int, int, int],
    cost: float | None,
    text: str,
    sidechain: bool,
) -> None:
    line = json.loads(
        claude_line(
            "2026-11-20T09:00:00.123Z", "msg", "req", SONNET, *tokens,
            cost_usd=cost, text=text, sidechain=sidechain,
        )
    )  # fmt: skip
    message = line["message"]
    for key, value in noise.items():
        # unknown fields anywhere, nested "message"/"usage" objects that are not the real one
        message.setdefault("extra_" + key, value)
        line.setdefault(key if key != "message" else "nested", {"message": {"usage": value}})
    _same(json.dumps(line, ensure_ascii=False).encode())
    _same(json.dumps(line, separators=(",", ":")).encode())


@pytest.mark.parametrize(
    "bad",
    [b'{"message":{"usage":{"input_tokens":1', b"[1]", b'{"a":1}x', b'{"a" 1}', b'"x"', b""],
)
def test_a_line_that_is_not_one_json_object_is_an_error(bad: bytes) -> None:
    with pytest.raises(ValueError, match=r"."):
        _scan(bad, 3)


def test_a_line_without_usage_has_nothing_to_count() -> None:
    user = json.dumps({"type": "user", "message": {"role": "user", "content": "x" * 1000}})
    assert _scan(user.encode(), 100) is None


def test_an_overlong_assistant_line_still_counts_and_memory_stays_bounded(tmp_path: Path) -> None:
    """The tailer's cap is 64 KiB here; the line is 3 MB of text around its usage."""
    projects = tmp_path / "projects"
    log = projects / "p" / "s.jsonl"
    log.parent.mkdir(parents=True)
    big = claude_line(
        "2026-11-20T09:00:00Z", "big", "r1", SONNET, 7, 11, 13, 17, text="é" * 1_500_000
    )
    small = claude_line("2026-11-20T09:01:00Z", "small", "r2", SONNET, 1, 2)
    log.write_text(big + "\n" + small + "\n")
    reader = ClaudeLogReader([tmp_path], build_price_table())
    _small_cap(reader, chunk_bytes=16 * 1024, max_line=64 * 1024)
    records = sorted(reader.read_new(), key=lambda r: r.ts_ns)
    assert [r.key for r in records] == ["m:big:r1", "m:small:r2"]
    assert (records[0].input_tokens, records[0].output_tokens) == (7, 11)
    assert (records[0].cache_write_tokens, records[0].cache_read_tokens) == (13, 17)
    assert reader.tailer.stats.overlong_lines == 1 and reader.malformed_lines == 0


def test_an_overlong_line_written_across_passes_is_read_once(tmp_path: Path) -> None:
    log = tmp_path / "projects" / "p" / "s.jsonl"
    log.parent.mkdir(parents=True)
    line = claude_line("2026-11-20T09:00:00Z", "big", "r1", SONNET, 7, 11, text="x" * 300_000)
    reader = ClaudeLogReader([tmp_path], build_price_table())
    _small_cap(reader, chunk_bytes=8192, max_line=32 * 1024)
    cut = len(line) // 2
    log.write_text(line[:cut])  # the writer is half-way through the line
    assert reader.read_new() == []
    with log.open("a") as fh:
        fh.write(line[cut:] + "\n")
    records = reader.read_new()
    assert [r.key for r in records] == ["m:big:r1"] and records[0].output_tokens == 11
    assert reader.read_new() == [] and reader.malformed_lines == 0


def test_an_overlong_line_that_cannot_be_read_is_counted_as_skipped(tmp_path: Path) -> None:
    log = tmp_path / "projects" / "p" / "s.jsonl"
    log.parent.mkdir(parents=True)
    log.write_text('{"message":{"usage":{"input_tokens":' + " " * 100_000 + "oops}}}\n")
    reader = ClaudeLogReader([tmp_path], build_price_table())
    _small_cap(reader, chunk_bytes=8192, max_line=32 * 1024)
    assert reader.read_new() == []
    assert reader.malformed_lines == 1
    assert "a line longer than 32768 bytes" in reader.first_malformed


def test_without_a_scan_an_overlong_line_is_skipped_only_when_it_holds_usage(
    tmp_path: Path,
) -> None:
    """Codex's logs: a huge response item without a token count is passed over as any line
    without one is; a huge line that holds one is counted as skipped (first 1 KiB cap)."""
    from burntray.io.log_tail import LogTailer

    log = tmp_path / "a.jsonl"
    marker = b'"type":"token_count"'
    # the second long line starts at 5009; its marker straddles the read at 6144 (12 * 512)
    log.write_bytes(
        b'{"x":"' + b"y" * 5000 + b'"}\n'
        + b'{"a":"' + b"z" * (6144 - 10 - 5009 - 6) + marker + b"q" * 5000 + b'"}\n'
        + b'{"ok":1,' + marker + b"}\n"
    )  # fmt: skip
    tailer = LogTailer([marker], chunk_bytes=512, max_line=1024)
    lines = []
    tailer.read(log, lambda line, off: lines.append(line))
    assert lines == [b'{"ok":1,' + marker + b"}"]
    assert tailer.stats.overlong_lines == 2
    count, first = tailer.skipped()
    assert count == 1 and "too long to read" in first and "@5009:" in first
