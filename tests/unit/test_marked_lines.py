"""Finding the lines that hold a marker in a chunk: every such line once, in order, and the
chunk read about once whatever the markers (a marker that is rare, such as Codex's
``usage_limit_reached``, must not be looked for from every line to the chunk's end)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from burntray.io.log_tail import _marked_lines


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
