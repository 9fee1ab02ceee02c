"""The status line's cost cache: what a run folds away (per session, per day, per minute) gives
the same figures as reading every log afresh, and the block is the claude source's block."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from burntray.model.pricing import PriceTable, build_price_table
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.source import claude_source
from burntray.sources.claude.statusline_costs import session_figures
from tests.agent_logs_support import claude_line

NS_MIN = 60 * 10**9
# 12:00 UTC on a fixed day: the runs below move the clock on by hours, never past midnight
NOON = int(dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC).timestamp()) * 10**9
MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805")


def _stamp(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _write(
    config: Path, session: str, times: list[int], *, dup: bool = False, final: bool = True
) -> Path:
    path = config / "projects" / "-p" / f"{session}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        for ts in times:
            mid, rid = f"m-{session}-{ts}", f"r-{session}-{ts}"
            model = MODELS[ts // NS_MIN % 2]
            if dup:  # a streaming snapshot first: only the final line counts
                fh.write(claude_line(_stamp(ts), mid, rid, model, 10, 1, session=session) + "\n")
            line = claude_line(_stamp(ts), mid, rid, model, 10, 3000, 500, 9000, session=session)
            fh.write(line + "\n" if final else "")
    mtime = max(times)
    os.utime(path, ns=(mtime, mtime))
    return path


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")


def test_folded_runs_give_the_figures_of_a_fresh_read(tmp_path: Path) -> None:
    config = tmp_path / "claude"
    prices = build_price_table({}, None)
    # a session since yesterday with a break of 6 hours, another one today, an old one
    _write(config, "a", [NOON - 20 * 60 * NS_MIN + k * 7 * NS_MIN for k in range(30)])
    _write(config, "a", [NOON - 3 * 60 * NS_MIN + k * 3 * NS_MIN for k in range(40)], dup=True)
    _write(config, "b", [NOON - 90 * NS_MIN + k * 5 * NS_MIN for k in range(18)])
    _write(config, "old", [NOON - 5 * 24 * 60 * NS_MIN])
    cache = tmp_path / "cache" / "statusline.msgpack"
    times = [NOON, NOON + 100 * NS_MIN, NOON + 170 * NS_MIN]  # the last in the next block
    for n, now in enumerate(times):
        if n:  # requests come in between runs, some rewritten (streaming) across runs
            new = [now - 30 * NS_MIN + k * NS_MIN for k in range(0, 30, 4)]
            _write(config, "a", new, dup=True, final=False)  # only the streaming snapshots
            session_figures([config], prices, cache, "a", now - NS_MIN)
            _write(config, "a", new)  # their final lines, after a run read the snapshots
        warm = session_figures([config], prices, cache, "a", now)
        fresh = session_figures([config], prices, tmp_path / f"fresh{n}.msgpack", "a", now)
        assert warm.today_cost_usd == pytest.approx(fresh.today_cost_usd, rel=1e-9)
        assert warm.session_cost_usd == pytest.approx(fresh.session_cost_usd, rel=1e-9)
        assert warm.block is not None and fresh.block is not None
        assert warm.block.start_ns == fresh.block.start_ns
        assert warm.block.cost_usd == pytest.approx(fresh.block.cost_usd, rel=1e-9)
        # the claude source, reading every log into memory, tells the same
        source = claude_source([config], prices, None, lambda now=now: now, watch=False)
        try:
            source.poll()
            records = source.records(0, now + 1)
            block = source.current_block(now)
        finally:
            source.close()
        midnight = now - now % (24 * 60 * NS_MIN)
        today = sum(r.cost_usd or 0 for r in records if r.ts_ns >= midnight)
        assert warm.today_cost_usd == pytest.approx(today, rel=1e-9)
        session = sum(r.cost_usd or 0 for r in records if r.session == "a")
        assert warm.session_cost_usd == pytest.approx(session, rel=1e-9)
        assert block is not None
        assert (warm.block.start_ns, warm.block.end_ns) == (block.start_ns, block.end_ns)
        assert warm.block.cost_usd == pytest.approx(block.cost_usd, rel=1e-9)
        assert warm.block.burn_usd_per_hour == pytest.approx(block.burn_usd_per_hour, rel=1e-9)
    assert cache.stat().st_size < 64 * 1024  # folded: a few rows, not every request


def test_requests_at_the_same_instant_one_unpriced_are_folded_and_blocked(tmp_path: Path) -> None:
    """Two requests logged at the same millisecond (parallel subagents), one of a model the
    price table does not know: sorting them by time must not compare a cost with "unpriced"
    (it raised TypeError, and the line lost its figures), both when folded and when recent."""
    config = tmp_path / "claude"
    path = config / "projects" / "-p" / "a.jsonl"
    path.parent.mkdir(parents=True)
    lines = []
    for ts in (NOON - 3 * 60 * NS_MIN, NOON - 5 * NS_MIN):  # folded (over an hour), recent
        for n, model in enumerate((MODELS[0], "claude-imaginary-9")):
            lines.append(claude_line(_stamp(ts), f"m{ts}{n}", f"r{ts}{n}", model, 10, 300,
                                     session="a"))  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    prices = build_price_table({}, None)
    figures = session_figures([config], prices, tmp_path / "c.msgpack", "a", NOON)
    one = prices.lookup("anthropic", MODELS[0])
    assert one is not None
    assert figures.session_cost_usd == pytest.approx(2 * one.tiered_cost(10, 300, 0, 0))
    assert figures.session_unpriced == 2 and figures.today_unpriced == 2
    assert figures.block is not None and figures.block.cost_usd > 0


def test_a_session_unknown_to_the_logs_has_no_cost(tmp_path: Path) -> None:
    config = tmp_path / "claude"
    _write(config, "b", [NOON - NS_MIN])
    figures = session_figures(
        [config], build_price_table({}, None), tmp_path / "c.msgpack", "nope", NOON
    )
    assert figures.session_cost_usd is None
    assert figures.today_cost_usd > 0


def test_a_run_seeded_from_the_history_gives_a_fresh_reads_figures(tmp_path: Path) -> None:
    """The claude source reads the logs into burntray's history; a first status line seeded
    from there (sums made by SQLite) agrees with one that reads every log itself, then and
    after more requests come."""
    from burntray.sources.registry import REGISTRY
    from burntray.store.history import HistoryStore

    config = tmp_path / "claude"
    prices = build_price_table({}, None)
    _write(config, "a", [NOON - 20 * 60 * NS_MIN + k * 7 * NS_MIN for k in range(30)])
    _write(config, "a", [NOON - 3 * 60 * NS_MIN + k * 3 * NS_MIN for k in range(40)], dup=True)
    _write(config, "b", [NOON - 90 * NS_MIN + k * 5 * NS_MIN for k in range(18)])
    db = tmp_path / "history.sqlite3"
    history = HistoryStore(db, REGISTRY.history_tables())
    source = claude_source([config], prices, history, lambda: NOON, watch=False)
    try:
        source.poll()
    finally:
        source.close()
        history.close()
    cache = tmp_path / "seeded.msgpack"
    for n, now in enumerate([NOON, NOON + 100 * NS_MIN]):
        if n:
            _write(config, "b", [now - 20 * NS_MIN + k * NS_MIN for k in range(0, 20, 3)])
        seeded = session_figures([config], prices, cache, "a", now, history_db=db)
        fresh = session_figures([config], prices, tmp_path / f"fresh{n}.msgpack", "a", now)
        assert seeded.today_cost_usd == pytest.approx(fresh.today_cost_usd, rel=1e-9)
        assert seeded.session_cost_usd == pytest.approx(fresh.session_cost_usd, rel=1e-9)
        assert seeded.block is not None and fresh.block is not None
        assert (seeded.block.start_ns, seeded.block.last_ns) == (
            fresh.block.start_ns,
            fresh.block.last_ns,
        )
        assert seeded.block.cost_usd == pytest.approx(fresh.block.cost_usd, rel=1e-9)
    # a session last written days ago and resumed after the seed counts whole, as unseeded
    old = _write(config, "c", [NOON - 5 * 24 * 60 * NS_MIN + k * NS_MIN for k in range(5)])
    history = HistoryStore(db, REGISTRY.history_tables())
    source = claude_source([config], prices, history, lambda: NOON, watch=False)
    try:
        source.poll()
    finally:
        source.close()
        history.close()
    os.utime(old, ns=(NOON - 5 * 24 * 60 * NS_MIN, NOON - 5 * 24 * 60 * NS_MIN))
    resumed = tmp_path / "resumed.msgpack"
    session_figures([config], prices, resumed, "c", NOON, history_db=db)
    _write(config, "c", [NOON + 2 * NS_MIN])
    later = NOON + 3 * NS_MIN
    seeded_c = session_figures([config], prices, resumed, "c", later, history_db=db)
    fresh_c = session_figures([config], prices, tmp_path / "fresh-c.msgpack", "c", later)
    assert fresh_c.session_cost_usd is not None
    assert seeded_c.session_cost_usd == pytest.approx(fresh_c.session_cost_usd, rel=1e-9)
    # what the seed brought: a file the history read is not read again (rewritten in place)
    log = config / "projects" / "-p" / "a.jsonl"
    before = session_figures([config], prices, tmp_path / "s2.msgpack", "a", NOON, history_db=db)
    log.write_bytes(b"x" * log.stat().st_size)
    after = session_figures([config], prices, tmp_path / "s3.msgpack", "a", NOON, history_db=db)
    assert after.session_cost_usd == pytest.approx(before.session_cost_usd, rel=1e-9)


def test_the_status_lines_rows_are_the_claude_readers_records(tmp_path: Path) -> None:
    """``RecentReader`` keeps rows made straight from the parsed lines: the same requests,
    keys, times, sessions, costs and tokens as the claude reader's records, and the same
    malformed lines counted, on logs with every kind of line duplicate removal and pricing
    tell apart (streaming rewrites, a sidechain replay in a subagent file, a line without a
    message id, an unpriced model, a line's own costUSD, a 1-hour cache write, a bad line)."""
    from burntray.sources.claude.logs import ClaudeLogReader
    from burntray.sources.claude.statusline_read import RecentReader

    config = tmp_path / "claude"
    folder = config / "projects" / "-p"
    (folder / "s1" / "subagents").mkdir(parents=True)
    at = [_stamp(NOON - k * 7 * NS_MIN) for k in range(8)]
    (folder / "s1.jsonl").write_text(
        "\n".join([
            claude_line(at[0], "m1", "r1", MODELS[0], 10, 1, session="s1"),  # streaming...
            claude_line(at[0], "m1", "r1", MODELS[0], 10, 900, 300, 5000, session="s1"),
            claude_line(at[1], "m2", "r2", MODELS[1], 20, 40, 3000, session="s1", write_1h=1000),
            claude_line(at[2], None, "r3", MODELS[0], 5, 5, session="s1"),  # never deduplicated
            claude_line(at[3], "m4", "r4", "claude-imaginary-9", 10, 10, session="s1"),
            claude_line(at[4], "m5", "r5", MODELS[0], 10, 10, session="s1", cost_usd=0.125),
            '{"type":"assistant","message":{"usage":{"input_tokens":1}',  # malformed
            claude_line(at[5], "m1", "r1", MODELS[0], 10, 700, session="s1"),  # a smaller one
        ]) + "\n"
    )  # fmt: skip
    (folder / "s1" / "subagents" / "agent-1.jsonl").write_text(
        claude_line(at[6], "m2", "r-side", MODELS[0], 20, 40, session="s1", sidechain=True)
        + "\n"
        + claude_line(at[7], "m6", "r6", MODELS[1], 30, 60, session="s1", sidechain=True)
        + "\n"
    )
    (folder / "s2.jsonl").write_text(
        claude_line(at[1], "m2", "r2", MODELS[1], 20, 80, 3000, session="s2") + "\n"
    )
    prices = build_price_table({}, None)
    reader = ClaudeLogReader([config], prices)
    expected = {r.key: (r.ts_ns, r.cost_usd, r.session, r.key, r.tokens) for r in reader.read_new()}
    ours = RecentReader([config], prices)
    rows: dict[str, tuple[int, float | None, str, str, int]] = {}
    ours.read_rows(0, frozenset(), rows)
    assert len(expected) == 6  # m1, m2 (across the files), r3, m4, m5, m6
    assert rows == expected
    assert any(cost is None for _ts, cost, *_rest in rows.values())  # the unpriced one
    assert (ours.malformed_lines, ours.first_malformed) == (1, reader.first_malformed)
    assert ours.save_state() == reader.save_state()


def _claude_records(config: Path, prices: PriceTable, now_ns: int) -> list[UsageRecord]:
    """Every request the claude source reads in ``config`` (every log, from the start)."""
    source = claude_source([config], prices, None, lambda: now_ns, watch=False)
    try:
        source.poll()
        return source.records(0, now_ns + 1)
    finally:
        source.close()


def test_a_resumed_session_counts_its_parents_requests_once_after_they_were_folded(
    tmp_path: Path,
) -> None:
    """A resumed session's log begins with copies of its parent's requests (their ids and
    times): after a status line folded the parent's (over an hour old), the next one must not
    count the copies again, in today's cost, the block or the new session's cost."""
    config = tmp_path / "claude"
    prices = build_price_table({}, None)
    parent = [NOON - 3 * 60 * NS_MIN + k * 5 * NS_MIN for k in range(6)]
    _write(config, "a", parent, dup=True)
    cache = tmp_path / "cache" / "statusline.msgpack"
    session_figures([config], prices, cache, "a", NOON)  # folds the parent's requests
    copies = (config / "projects" / "-p" / "a.jsonl").read_text()
    resumed = config / "projects" / "-p" / "b.jsonl"
    resumed.write_text(copies)  # what `claude --resume` writes first: the parent's lines
    _write(config, "b", [NOON + NS_MIN, NOON + 2 * NS_MIN])
    later = NOON + 3 * NS_MIN
    warm = session_figures([config], prices, cache, "b", later)
    fresh = session_figures([config], prices, tmp_path / "fresh.msgpack", "b", later)
    records = _claude_records(config, prices, later)
    assert len(records) == 8  # six of the parent's, two of the resumed session's own
    today = sum(r.cost_usd or 0 for r in records)
    own = sum(r.cost_usd or 0 for r in records if r.session == "b")
    assert warm.today_cost_usd == pytest.approx(today, rel=1e-9)
    assert warm.session_cost_usd == pytest.approx(own, rel=1e-9)
    assert warm.today_cost_usd == pytest.approx(fresh.today_cost_usd, rel=1e-9)
    assert warm.block is not None and fresh.block is not None
    assert warm.block.cost_usd == pytest.approx(fresh.block.cost_usd, rel=1e-9)
    # and the run after that, with nothing new, is a warm one that still agrees
    again = session_figures([config], prices, cache, "b", later + NS_MIN)
    assert again.today_cost_usd == pytest.approx(today, rel=1e-9)


@pytest.mark.parametrize("warm", [False, True])
def test_a_session_resumed_from_a_log_days_old_counts_its_parents_requests_once(
    tmp_path: Path, warm: bool
) -> None:
    """The parent's log was last written three days ago (a status line does not read it), and
    the resumed session's log starts with copies of its requests: the resumed session's cost is
    its own requests', as the claude source (reading every log) tells, on a first run and on a
    warm one that meets the resumed log for the first time."""
    config = tmp_path / "claude"
    prices = build_price_table({}, None)
    days_ago = NOON - 3 * 24 * 60 * NS_MIN
    parent = _write(config, "a", [days_ago + k * 5 * NS_MIN for k in range(6)])
    cache = tmp_path / "cache" / "statusline.msgpack"
    _write(config, "other", [NOON - 10 * NS_MIN])
    if warm:
        session_figures([config], prices, cache, "other", NOON - 5 * NS_MIN)
    resumed = config / "projects" / "-p" / "b.jsonl"
    resumed.write_text(parent.read_text())  # the parent's lines, as `claude --resume` copies
    _write(config, "b", [NOON - 2 * NS_MIN, NOON - NS_MIN])
    figures = session_figures([config], prices, cache, "b", NOON, transcript=str(resumed))
    records = _claude_records(config, prices, NOON)
    own = [r.cost_usd or 0 for r in records if r.session == "b"]
    assert len(own) == 2  # the copies are the parent's
    assert figures.session_cost_usd == pytest.approx(sum(own), rel=1e-9)
    today = sum(r.cost_usd or 0 for r in records if r.ts_ns >= NOON - 12 * 60 * NS_MIN)
    assert figures.today_cost_usd == pytest.approx(today, rel=1e-9)
    again = session_figures([config], prices, cache, "b", NOON + NS_MIN, transcript=str(resumed))
    assert again.session_cost_usd == pytest.approx(sum(own), rel=1e-9)
