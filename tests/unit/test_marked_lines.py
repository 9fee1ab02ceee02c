"""Finding the lines that hold a marker in a chunk: every such line once, in order, and the
chunk read about once whatever the markers (a marker that is rare, such as Codex's
``usage_limit_reached``, must not be looked for from every line to the chunk's end)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from burntray.io.log_tail import LogTailer, _marked_lines


class CountingBytes(bytes):
    """Bytes that count how many bytes their ``find`` looked at."""

    looked = 0

    def find(self, sub: bytes, start: int = 0, end: int | None = None) -> int:  # type: ignore[override]
        stop = len(self) if end is None else end
        hit = super().find(sub, start, stop)
        CountingBytes.looked += (hit + len(sub) - start) if hit >= 0 else (stop - start)
        return hit


def _expected(data: bytes, markers: tuple[bytes, ...]) -> list[bytes]:
    return [line for line in data.split(b"\n")[:-1] if any(m in line for m in markers)]


def test_a_rare_marker_is_not_searched_for_from_every_line() -> None:
    lines = [b'{"type":"token_count","n":%d,"pad":"%s"}' % (i, b"x" * 200) for i in range(3000)]
    data = CountingBytes(b"\n".join(lines) + b"\n")
    markers = (b'"token_count"', b'"turn_context"', b"usage_limit_reached")
    CountingBytes.looked = 0
    found = [bytes(data[a:b]) for a, b in _marked_lines(data, len(data), markers)]
    assert found == lines
    assert CountingBytes.looked < 4 * len(data)  # linear: not 3000 searches to the end


@given(
    st.lists(
        st.sampled_from([b"alpha", b"beta", b"gamma alpha", b"noise", b"", b"beta beta"]),
        max_size=40,
    )
)
def test_every_marked_line_once_in_order(parts: list[bytes]) -> None:
    data = b"\n".join(parts) + b"\n"
    markers = (b"alpha", b"beta")
    got = [data[a:b] for a, b in _marked_lines(data, len(data), markers)]
    assert got == _expected(data, markers)


@given(
    st.lists(
        st.sampled_from([b"ab", b"xabcx", b"b.b", b"a|b", b"bb", b"", b"c", b"(ab)", b"zz"]),
        max_size=40,
    ),
    st.integers(min_value=0, max_value=3),
)
def test_markers_that_overlap_or_hold_pattern_characters(parts: list[bytes], cut: int) -> None:
    """Several markers are looked for in one pass: markers that share a start, that one holds,
    or that hold a regular expression's characters find their lines as ``in`` does; a chunk cut
    before its last lines hands on none of those."""
    data = b"\n".join(parts) + b"\n"
    markers = (b"abc", b"ab", b"b.b", b"a|b", b"(ab)")
    end = len(data)
    for _ in range(cut):  # the chunk ends after an earlier line
        end = data.rfind(b"\n", 0, end - 1) + 1 if end > 1 else 0
    got = [data[a:b] for a, b in _marked_lines(data, end, markers)]
    assert got == _expected(data[:end], markers)
    assert list(_marked_lines(data, end, ())) == []


@given(
    st.lists(
        st.sampled_from([b"usage", b"x usage y", b"usageusage", b"noise", b"", b"us", b"age"]),
        max_size=60,
    ),
    st.sampled_from([b"", b"usage", b"tail us"]),
    st.integers(min_value=1, max_value=40),
)
def test_the_tailers_one_marker_search_hands_on_every_marked_line_once(
    tmp_path_factory: pytest.TempPathFactory, parts: list[bytes], partial: bytes, chunk: int
) -> None:
    """The tailer finds one marker's lines itself (``LogTailer._scan``): runs of marked lines,
    single marked lines between others, lines that hold the marker twice, any chunk size (lines
    cut at a chunk's end) and a last line not ended yet hand on what ``_marked_lines`` finds,
    each line once, with its offset."""
    data = b"\n".join(parts) + b"\n" + partial
    path = tmp_path_factory.mktemp("tail") / "log.jsonl"
    path.write_bytes(data)
    got: list[tuple[bytes, int]] = []
    tailer = LogTailer([b"usage"], chunk_bytes=chunk)
    tailer.read(path, lambda line, offset: got.append((line, offset)))
    end = data.rfind(b"\n") + 1
    expected = [(data[a:b], a) for a, b in _marked_lines(data, end, (b"usage",))]
    assert got == expected
    assert tailer.stats.lines == len(expected)
