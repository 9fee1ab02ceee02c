"""Copilot CLI's telemetry file read on from where the last pass stopped (issue 24: a warm
``status`` decoded the whole file again for one appended call): only what was appended is
decoded, across a restart, and the history ends exactly as reading the file whole every pass
leaves it - also when a new line changes a record before it (then the file is read whole),
when the file is truncated, replaced or rewritten, or a line is cut or not JSON."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from burntray.model.pricing import build_price_table
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.stores import StoreSource
from burntray.sources.copilot.reader import CopilotReader
from burntray.store.history import HistoryStore
from tests.agent_logs_support import copilot_chat_span, copilot_inference_log, copilot_usage

T0 = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
LATER_NS = int((T0 + dt.timedelta(days=1)).timestamp()) * 10**9  # every trace has settled


def _at(minutes: int) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _chat(trace: str, span: str, minutes: int, **kw: str) -> str:
    return copilot_chat_span(trace, span, _at(minutes), "gpt-5", copilot_usage(100, 10, 50), **kw)


def _log(trace: str, span: str, minutes: int, **kw: str) -> str:
    return copilot_inference_log(trace, span, _at(minutes), "gpt-5", copilot_usage(100, 10, 50),
                                 **kw)  # fmt: skip


def _bare(trace: str, span: str, minutes: int, attrs: dict[str, object]) -> str:
    """A chat span with only the attributes given (no model, no session: its trace's)."""
    at = int((T0 + dt.timedelta(minutes=minutes)).timestamp())
    attributes = {"gen_ai.operation.name": "chat", **copilot_usage(70, 7), **attrs}
    return json.dumps({"type": "span", "traceId": trace, "spanId": span, "name": "chat",
                       "endTime": [at, 0], "attributes": attributes})  # fmt: skip


class _Pair:
    """The same file read by two sources, each with its own history: one as shipped (reading
    on from the tail it kept), one that forgets its tails before every pass (a whole read each
    time, as before)."""

    def __init__(self, tmp: Path, clock: Callable[[], int]) -> None:
        self.otel = tmp / "otel"
        self.otel.mkdir()
        self.file = self.otel / "copilot.jsonl"
        self.tmp, self.clock = tmp, clock
        self.sources = [self._source(name) for name in ("on", "whole")]

    def _source(self, name: str) -> StoreSource:
        reader = CopilotReader(self.otel, None, build_price_table(), self.clock)
        history = HistoryStore(self.tmp / f"{name}.sqlite3")
        return StoreSource("copilot", "Copilot", reader, [self.otel], history, self.clock)

    def restart(self) -> None:
        """The shipped source ends and a new one resumes from its history."""
        self.sources[0].close()
        self.sources[0] = self._source("on")

    def write(self, text: str, mode: str = "a") -> None:
        with self.file.open(mode) as fh:
            fh.write(text)

    def poll(self) -> int:
        """Both read; the histories hold the same records. Returns what the shipped source
        decoded in this pass (bytes)."""
        on, whole = (s.store_reader for s in self.sources)
        assert isinstance(on, CopilotReader) and isinstance(whole, CopilotReader)
        before = on.bytes_decoded
        whole.forget()
        for source in self.sources:
            source.poll()
        assert _records(self.sources[0]) == _records(self.sources[1])
        assert on.malformed_lines == whole.malformed_lines
        assert on.first_malformed == whole.first_malformed
        return on.bytes_decoded - before


def _records(source: StoreSource) -> list[UsageRecord]:
    return sorted(source.records(0, 2**62), key=lambda r: r.key)


def test_an_appended_call_is_decoded_alone_across_a_restart(tmp_path: Path) -> None:
    pair = _Pair(tmp_path, lambda: LATER_NS)
    pair.write("".join(f"{_log(f't{n}', 'c', n)}\n{_chat(f't{n}', 'c', n)}\n" for n in range(5)))
    assert pair.poll() == pair.file.stat().st_size
    pair.restart()
    line = _chat("t9", "c", 30) + "\n"
    pair.write(line)
    assert pair.poll() == len(line)  # the new call alone, after a restart
    assert len(_records(pair.sources[0])) == 6
    # a call of a trace read before, which changes none of its records: read on too
    line = _chat("t4", "c2", 31) + "\n" + _log("t4", "c2", 31) + "\n"
    pair.write(line)
    assert pair.poll() == len(line)
    assert len(_records(pair.sources[0])) == 7


# (what the file holds, what is appended, what is then decoded: the appended lines alone
# ("on"); they and the whole file when they change a record before them ("both"); the whole
# file alone when no tail was kept: a record dated by the file's time, moved by every write)
NO_TIME = json.dumps({"attributes": {"event.name": "gen_ai.client.inference.operation.details",
                                     **copilot_usage(5, 5)}})  # fmt: skip
CASES = {
    # a chat span after its trace's log was counted: the log is beaten
    "beats a record before": (_log("t1", "c", 0), _chat("t1", "c", 2), "both"),
    "beats by response id": (
        _log("t1", "c", 0, response="r1"),
        _chat("t2", "c", 2, response="r1"),
        "both",
    ),
    "gives a trace its model": (
        _bare("t1", "c1", 0, {}),
        _log("t1", "c2", 1).replace("gpt-5", "gpt-5-mini"),
        "both",
    ),
    "gives a surer session": (
        _bare("t1", "c1", 0, {"gen_ai.response.id": "r"}),
        _bare("t1", "c2", 1, {"session.id": "s"}),
        "both",
    ),
    "a record before has no time": (NO_TIME, _chat("t2", "c", 1), "whole"),
    "a line not JSON": (_chat("t1", "c", 0), '{"attributes": {"gen_ai', "on"),
    "a record beaten by one before": (_chat("t1", "c", 0), _log("t1", "c2", 1), "on"),
}


@pytest.mark.parametrize("case", CASES)
def test_what_reading_on_gives_is_what_a_whole_read_gives(case: str, tmp_path: Path) -> None:
    before, appended, how = CASES[case]
    pair = _Pair(tmp_path, lambda: LATER_NS)
    pair.write(before + "\n")
    pair.poll()
    pair.restart()
    pair.write(appended + "\n")
    decoded = pair.poll()
    size, added = pair.file.stat().st_size, len(appended) + 1
    assert decoded == {"on": added, "both": added + size, "whole": size}[how]
    # and what comes after is read on again (or whole, while a record has no time)
    pair.write(_chat("t8", "c", 5) + "\n")
    pair.poll()


def test_a_truncated_replaced_or_cut_file_is_read_whole(tmp_path: Path) -> None:
    pair = _Pair(tmp_path, lambda: LATER_NS)
    pair.write(f"{_chat('t1', 'c', 0)}\n{_chat('t2', 'c', 1)}\n")
    pair.poll()
    # rewritten in place, longer than before, another call where the first was
    pair.write(f"{_chat('t3', 'c', 2)}\n{_chat('t2', 'c', 1)}\n{_chat('t4', 'c', 3)}\n", "w")
    assert pair.poll() == pair.file.stat().st_size
    # replaced by another file (a rename over it): read whole
    other = pair.otel / "next.tmp"
    other.write_text(f"{_chat('t3', 'c', 2)}\n{_chat('t2', 'c', 1)}\n{_chat('t4', 'c', 3)}\n"
                     f"{_chat('t5', 'c', 4)}\n")  # fmt: skip
    os.replace(other, pair.file)
    assert pair.poll() == pair.file.stat().st_size
    # a line cut while written: read whole (it is not JSON yet), and whole once it is ended
    cut = _chat("t6", "c", 5)
    pair.write(cut[:40])
    assert pair.poll() == pair.file.stat().st_size
    pair.write(cut[40:] + "\n")
    assert pair.poll() == pair.file.stat().st_size
    pair.write(_chat("t7", "c", 6) + "\n")  # from there on, read on again
    assert pair.poll() < 1000


def test_a_held_log_is_read_on_until_its_chat_span_comes(tmp_path: Path) -> None:
    """A log written before its chat span is held back; the lines after the tail are read
    again (not the whole file) until it is settled or beaten."""
    now = [int((T0 + dt.timedelta(minutes=10)).timestamp()) * 10**9]
    pair = _Pair(tmp_path, lambda: now[0])
    pair.write(f"{_chat('t1', 'c', 0)}\n")
    pair.poll()
    log = _log("t2", "c", 10) + "\n"
    pair.write(log)
    assert pair.poll() == len(log)
    assert len(_records(pair.sources[0])) == 1  # held back
    chat = _chat("t2", "c", 10) + "\n"
    pair.write(chat)
    assert pair.poll() == len(log) + len(chat)  # from the same tail again
    assert [r.key.rsplit(":", 2)[-2:] for r in _records(pair.sources[0])] == [
        ["t1", "c"], ["t2", "c"]]  # fmt: skip


def test_the_files_written_last_keep_their_tails(tmp_path: Path) -> None:
    """Of the files a first scan reads, the two written last keep their tails (not the last
    two read): the exporter's current file is read on from the first warm pass."""
    pair = _Pair(tmp_path, lambda: LATER_NS)
    for n, name in enumerate(("a", "b", "c")):
        (pair.otel / f"{name}.jsonl").write_text(_chat(f"t{name}", "c", n) + "\n")
    day = 86_400
    for name, age in (("a", 0), ("b", 1), ("c", 2)):  # "a" written last, "c" first
        os.utime(pair.otel / f"{name}.jsonl", (time.time() - age * day,) * 2)
    pair.poll()
    line = _chat("t9", "c", 9) + "\n"
    with (pair.otel / "a.jsonl").open("a") as fh:
        fh.write(line)
    assert pair.poll() == len(line)
