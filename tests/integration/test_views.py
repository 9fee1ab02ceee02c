"""The views: usage by day, week, month, session, project, branch, model and tool, over any date
range, read from burntray's own history (a real SQLite store, real ``burntray`` processes)."""

from __future__ import annotations

import datetime as dt
import json
import random
import zoneinfo
from pathlib import Path

import pytest

from burntray.model.usage import UsageRecord
from burntray.paths import app_paths
from burntray.report.views import ViewQuery, read_view
from burntray.sources.registry import REGISTRY
from burntray.store.history import HistoryStore
from burntray.store.usage_events import UsageEvents
from tests.agent_logs_support import claude_line
from tests.processes import burntray

SONNET = "claude-sonnet-4-5-20250929"
OPUS = "claude-opus-4-1-20250805"
S = 10**9
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def at(text: str, tz: dt.tzinfo = dt.UTC) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()) * S


def rec(
    ts_ns: int, key: str, *, model: str = SONNET, cost: float | None = 1.0, **kw: str
) -> UsageRecord:
    return UsageRecord(ts_ns, "anthropic", model, 10, 20, 30, 40, cost, key, **kw)  # type: ignore[arg-type]


def store() -> tuple[HistoryStore, UsageEvents]:
    history = HistoryStore(app_paths().history_db, REGISTRY.history_tables())
    return history, UsageEvents(history)


def keys_and_reqs(rows: list) -> list[tuple[tuple[str, ...], int]]:  # type: ignore[type-arg]
    return [(r.keys, r.reqs) for r in rows]


def test_weeks_start_on_sunday_or_as_asked_and_months_follow_the_users_zone() -> None:
    history, events = store()
    # Sat 2026-01-03 23:30 UTC is Sun 00:30 in Berlin; Sun 01-04 12:00; Mon 01-05 10:00;
    # Jan 31 23:30 UTC is Feb 1 in Berlin.
    events.ingest("claude", [
        rec(at("2026-01-03T23:30:00"), "a"), rec(at("2026-01-04T12:00:00"), "b"),
        rec(at("2026-01-05T10:00:00"), "c"), rec(at("2026-01-31T23:30:00"), "d"),
    ])  # fmt: skip
    everything = (0, at("2027-01-01T00:00:00"))

    def view(dims: tuple[str, ...], tz: dt.tzinfo, week_start: int = 6) -> list:  # type: ignore[type-arg]
        return read_view(history, None, ViewQuery(dims, *everything, tz, week_start)).rows

    assert keys_and_reqs(view(("week",), dt.UTC)) == [
        (("2025-12-28",), 1), (("2026-01-04",), 2), (("2026-01-25",), 1)
    ]  # fmt: skip
    assert keys_and_reqs(view(("week",), BERLIN)) == [
        (("2026-01-04",), 3), (("2026-02-01",), 1)
    ]  # fmt: skip
    assert keys_and_reqs(view(("week",), dt.UTC, week_start=0)) == [  # ISO weeks
        (("2025-12-29",), 2), (("2026-01-05",), 1), (("2026-01-26",), 1)
    ]  # fmt: skip
    assert keys_and_reqs(view(("month",), dt.UTC)) == [(("2026-01",), 4)]
    assert keys_and_reqs(view(("month",), BERLIN)) == [(("2026-01",), 3), (("2026-02",), 1)]
    assert keys_and_reqs(view(("day",), BERLIN))[0] == (("2026-01-04",), 2)
    history.close()


def test_days_across_a_daylight_saving_change_and_a_quarter_hour_zone() -> None:
    history, events = store()
    # Berlin leaves summer time on 2026-10-25 at 01:00 UTC: 22:30 UTC the day before is
    # 00:30 on the 25th (UTC+2), 23:30 UTC on the 25th is 00:30 on the 26th (UTC+1).
    events.ingest("claude", [
        rec(at("2026-10-24T21:59:00"), "a"), rec(at("2026-10-24T22:30:00"), "b"),
        rec(at("2026-10-25T22:59:00"), "c"), rec(at("2026-10-25T23:00:00"), "d"),
    ])  # fmt: skip
    q = ViewQuery(("day",), 0, at("2027-01-01T00:00:00"), BERLIN)
    assert keys_and_reqs(read_view(history, None, q).rows) == [
        (("2026-10-24",), 1), (("2026-10-25",), 2), (("2026-10-26",), 1)
    ]  # fmt: skip
    nepal = zoneinfo.ZoneInfo("Asia/Kathmandu")  # UTC+05:45
    q = ViewQuery(("day",), 0, at("2027-01-01T00:00:00"), nepal)
    assert [k for k, _ in keys_and_reqs(read_view(history, None, q).rows)] == [
        ("2026-10-25",), ("2026-10-26",)
    ]  # fmt: skip  # 18:15 UTC is midnight there: all four fall after it
    history.close()


def test_rollup_and_records_agree_at_any_edge() -> None:
    """Periods and models come from the per-minute rollup with the records only at a range's
    partial edge minutes; sessions from the records. Both must give what summing the records
    themselves gives, for ranges that start and end anywhere inside a minute."""
    history, events = store()
    rng = random.Random(7)
    base = at("2026-03-01T00:00:00")
    records = [
        rec(base + rng.randrange(3 * 86400 * S), f"k{i}", model=rng.choice((SONNET, OPUS, "")),
            cost=rng.choice((1.5, 0.25, None)), session=rng.choice(("s1", "s2")))
        for i in range(3000)
    ]  # fmt: skip
    events.ingest("claude", records)
    for _ in range(20):
        lo = base + rng.randrange(3 * 86400 * S)
        hi = lo + rng.randrange(1, 86400 * S) * rng.choice((1, 3))  # a part, or most of it
        q = ViewQuery(("day", "model"), lo, hi, dt.UTC)
        got = {r.keys: (r.reqs, r.output_tokens, round(r.cost_usd, 6), r.unpriced_reqs)
               for r in read_view(history, None, q).rows}  # fmt: skip
        want: dict[tuple[str, ...], list[float]] = {}
        for r in records:
            if lo <= r.ts_ns < hi:
                day = dt.datetime.fromtimestamp(r.ts_ns // S, dt.UTC).date().isoformat()
                acc = want.setdefault((day, r.model or "(unknown)"), [0, 0, 0.0, 0])
                acc[0] += 1
                acc[1] += r.output_tokens
                acc[2] += r.cost_usd or 0.0
                acc[3] += r.cost_usd is None
        assert got == {k: (v[0], v[1], round(v[2], 6), v[3]) for k, v in want.items()}
        # sessions read the records: through the time index for a short range, in key order
        # for one covering most of them; both give the records' own sums
        q = ViewQuery(("session",), lo, hi, dt.UTC)
        sessions = {r.keys[0]: (r.reqs, r.last_ns) for r in read_view(history, None, q).rows}
        inside = [r for r in records if lo <= r.ts_ns < hi]
        assert sessions == {
            s: (sum(1 for r in inside if r.session == s),
                max(r.ts_ns for r in inside if r.session == s))
            for s in {r.session for r in inside}
        }  # fmt: skip
    history.close()


def test_all_counts_each_upstream_once_and_names_the_tool() -> None:
    history, events = store()
    t = at("2026-11-20T09:00:00")
    events.ingest("claude", [rec(t, "m:1", branch="main"), rec(t + S, "m:2")])
    # OTLP saw the same Claude Code request, and one from Gemini CLI that no other source has
    events.ingest("otel", [
        rec(t, "claude-code:x", cost=1.0),
        UsageRecord(t + 2 * S, "google", "gemini-2.5-pro", 5, 5, 0, 0, 0.5, "gemini-cli:y"),
    ])  # fmt: skip
    q = ViewQuery(("tool",), 0, t + 86400 * S, dt.UTC)
    view = read_view(history, None, q)
    assert sorted(keys_and_reqs(view.rows)) == [(("claude",), 2), (("otel/gemini-cli",), 1)]
    assert sum(r.cost_usd for r in view.rows) == pytest.approx(2.5)
    # one source alone: all it has
    only = read_view(history, ["otel"], ViewQuery(("model",), 0, t + 86400 * S, dt.UTC))
    assert sum(r.reqs for r in only.rows) == 2
    # the branch of an old or unbranched request is unknown, never dropped
    branches = read_view(history, ["claude"], ViewQuery(("branch",), 0, t + 86400 * S, dt.UTC))
    assert sorted(keys_and_reqs(branches.rows)) == [(("(unknown)",), 1), (("main",), 1)]
    history.close()


def _claude_logs(root: Path) -> Path:
    project = root / "projects" / "-work-alpha"
    project.mkdir(parents=True)
    other = root / "projects" / "-work-beta"
    other.mkdir(parents=True)
    (project / "s1.jsonl").write_text("\n".join([
        claude_line("2026-01-10T09:00:00Z", "m1", "r1", SONNET, 100, 10, branch="main"),
        claude_line("2026-01-10T10:00:00Z", "m2", "r2", SONNET, 100, 10, branch="feat"),
        claude_line("2026-01-20T10:00:00Z", "m3", "r3", OPUS, 100, 10, branch="main"),
    ]) + "\n")  # fmt: skip
    (other / "s2.jsonl").write_text(
        claude_line("2026-02-02T10:00:00Z", "m4", "r4", SONNET, 7, 1, session="s2") + "\n"
    )
    return root


def test_usage_stays_visible_after_the_logs_are_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """January 2026 is months before now: outside every rolling window, shown with --since."""
    logs = _claude_logs(tmp_path / "claude")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(logs))
    monkeypatch.setenv("TZ", "UTC")
    first = burntray("status", "--by", "month", "--window", "all", "--format", "json")
    assert first.returncode == 0, first.stderr
    months = {r["month"]: r["reqs"] for r in json.loads(first.stdout)["rows"]}
    assert months == {"2026-01": 3, "2026-02": 1}
    for path in sorted(logs.rglob("*.jsonl")):
        path.unlink()  # Claude Code's cleanup deleted them
    args = ("--by", "project,branch", "--since", "2026-01-01", "--until", "20260131")
    done = burntray("status", *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["window"] == "range" and (doc["since"], doc["until"]) == ("2026-01-01", "2026-01-31")
    rows = {(r["project"], r["branch"]): r["reqs"] for r in doc["rows"]}
    assert rows == {("-work-alpha", "main"): 2, ("-work-alpha", "feat"): 1}
    assert doc["totals"]["input_tokens"] == 300
    # February's one request had no gitBranch: its own row, "(unknown)"
    feb = burntray("report", "--by", "branch", "--since", "2026-02-01", "--format", "csv")
    assert feb.returncode == 0, feb.stderr
    assert feb.stdout.splitlines()[1].startswith("(unknown),1,7,1,")
    doctor = burntray("doctor")  # how far back the history goes
    assert "  claude: from 2026-01-10 09:00 UTC (" in doctor.stdout, doctor.stdout
    table = burntray("status", "--by", "day,model", "--window", "all")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["DATE", "MODEL", "REQS"]
    assert [ln.split()[0] for ln in lines[1:5]] == ["2026-01-10", "2026-01-20", "2026-02-02",
                                                    "Total"]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--by", "day,week"), "one of day, week, month at a time"),
        (("--by", "colour"), "'colour' is not one of day, week, month, session"),
        (("--by", "day", "--since", "2026-13-01"), "--since '2026-13-01': a date as YYYY-MM-DD"),
        (("--by", "day", "--since", "20260201", "--until", "20260101"), "is after --until"),
        (("--by", "day", "--timezone", "Mars/Olympus"), "not an IANA zone"),
        (("--by", "day", "--timezone", "America"), "not an IANA zone"),
        (("--by", "day", "--since", "0001-01-01"), "a date in the years 1971 to 9998"),
        (("--by", "day", "--until", "99991231"), "a date in the years 1971 to 9998"),
        (("--since", "2026-01-01"), "need --by"),
        (("--window", "all"), "need --by"),
        (("--by", "day", "--since", "2026-01-01", "--window", "7d"), "give one or the other"),
    ],
)
def test_bad_view_options_are_named(args: tuple[str, ...], message: str) -> None:
    done = burntray("status", *args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_the_html_report_shows_periods_by_tool_projects_branches_and_its_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.agent_logs_support import write_codex_fixture
    from tests.report_support import read_html

    logs = _claude_logs(tmp_path / "claude")
    write_codex_fixture(tmp_path / "codex")  # November 2026: a second tool
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(logs))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    monkeypatch.setenv("TZ", "UTC")
    page_file = tmp_path / "report.html"
    done = burntray("report", "--since", "2026-01-01", "--out", str(page_file))
    assert done.returncode == 0, done.stderr
    text = page_file.read_text()
    page = read_html(text)
    assert "2026-01-01 to " in text.split("<title>")[1].split("</title>")[0]
    assert page.by_id["periods"].startswith("Per month")  # eleven months: months
    # one chart in all, one per tool, each bar a month with its figures on hover
    assert {"chart-month", "chart-month-tool-0", "chart-month-tool-1"} <= set(page.by_id)
    assert "Cost per month: claude" in text and "Cost per month: codex" in text
    assert "claude, 2026-01: " in text and "3 requests" in text
    projects = page.tables["projects-table"]
    assert projects[0][:2] == ["Project", "Requests"]
    # Claude Code's project folders, Codex's workspace (its turn_context's cwd; a session
    # without one: unknown)
    assert {r[0]: r[1] for r in projects[1:]} == {"-work-alpha": "3", "-work-beta": "1",
                                                   "/work": "4", "(unknown)": "1"}  # fmt: skip
    branches = {(r[0], r[1]): r[2] for r in page.tables["branches-table"][1:]}
    assert branches[("-work-alpha", "main")] == "2" and branches[("-work-beta", "(unknown)")] == "1"
    # the same range, as --by says it
    by = burntray("report", "--by", "project", "--since", "2026-01-01", "--format", "json")
    rows = {r["project"]: r["reqs"] for r in json.loads(by.stdout)["rows"]}
    assert rows == {"-work-alpha": 3, "-work-beta": 1, "/work": 4, "(unknown)": 1}
    past = burntray("report", "--until", "2026-01-31")
    assert past.returncode == 2 and "--until and --timezone need --by" in past.stderr


def test_a_damaged_history_is_named_not_a_traceback() -> None:
    history, events = store()
    events.ingest("claude", [rec(at("2026-01-10T09:00:00") + i * S, f"k{i}") for i in range(3000)])
    history.close()
    path = app_paths().history_db
    data = bytearray(path.read_bytes())
    for i in range(8192, len(data), 4096):  # every page past the first two: noise
        data[i + 100 : i + 400] = bytes((j * 37) % 256 for j in range(300))
    path.write_bytes(bytes(data))
    done = burntray("status", "--by", "day", "--window", "all")
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    assert "malformed" in done.stderr or "unusable" in done.stderr, done.stderr
