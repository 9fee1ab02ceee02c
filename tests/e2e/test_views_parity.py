"""``burntray status --by day|week|month --format json`` against the real ccusage 20.0.24
(``claude daily|weekly|monthly``, ``codex daily|monthly``) on the same generated logs: per
period, tokens equal exactly and cost within 0.5 %.

The logs span three calendar months (December 2025 to February 2026, a year before the tests'
"now"), so every period is outside any rolling window: burntray shows them from its history with
``--window all`` and ``--since``. They hold streamed duplicates (the same message written twice,
the larger last), an unknown model, several projects and branches, and Codex's cumulative
counters.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import pytest

from tests.agent_logs_support import (
    _compact,
    ccusage_binary,
    claude_line,
    codex_token_count,
    codex_turn_context,
    codex_usage,
    run_ccusage,
)
from tests.processes import burntray, require_tool

pytestmark = pytest.mark.slow

START = dt.datetime(2025, 12, 20, tzinfo=dt.UTC)
SPAN_S = 60 * 86400  # to mid-February: weeks and months on both sides of a year's end
MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-imaginary-9")


def _stamp(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _claude_logs(config: Path, rng: random.Random) -> None:
    for s in range(12):
        path = config / "projects" / f"-work-p{s % 3}" / f"s{s}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        t = START.timestamp() + (s + rng.random()) * SPAN_S / 12  # spread over the span
        lines = []
        for n in range(rng.randint(20, 60)):
            t += rng.randint(30, 9000)
            mid, rid = f"m{s}-{n}", f"r{s}-{n}"
            model = rng.choice(MODELS)
            tokens = (rng.randint(1, 900), rng.randint(1, 4000), rng.randint(0, 20000),
                      rng.randint(0, 90000))  # fmt: skip
            branch = rng.choice(("main", "feat", None))
            if rng.random() < 0.3:  # a streaming snapshot first: counted once, the larger wins
                lines.append(claude_line(_stamp(t), mid, rid, model, tokens[0], 1, tokens[2],
                                         tokens[3], session=f"s{s}", branch=branch))  # fmt: skip
            lines.append(claude_line(_stamp(t + 1), mid, rid, model, *tokens, session=f"s{s}",
                                     branch=branch))  # fmt: skip
        path.write_text("\n".join(lines) + "\n")


def _codex_logs(home: Path, rng: random.Random) -> None:
    for s in range(8):
        t = START.timestamp() + (s + rng.random()) * SPAN_S / 8
        day = dt.datetime.fromtimestamp(t, dt.UTC)
        folder = home / "sessions" / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"timestamp": _stamp(t), "type": "session_meta",
                "payload": {"id": f"c{s}", "cwd": f"/work/c{s % 2}"}}  # fmt: skip
        lines = [_compact(meta), codex_turn_context(_stamp(t), "gpt-5-codex")]
        total = codex_usage(0, 0, 0)
        for _ in range(rng.randint(5, 25)):
            t += rng.randint(60, 20000)
            inp = rng.randint(1000, 90000)
            last = codex_usage(inp, rng.randint(0, inp), rng.randint(10, 3000), rng.randint(0, 50))
            total = {k: total[k] + last[k] for k in last}
            lines.append(codex_token_count(_stamp(t), last, dict(total)))
        (folder / f"rollout-{day:%Y-%m-%dT%H-%M-%S}-c{s}.jsonl").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    require_tool("npm")  # skips without npm (fails in CI, where .ci/run installs it)
    binary = ccusage_binary()
    assert binary is not None
    root = tmp_path_factory.mktemp("views-parity")
    rng = random.Random(24)
    _claude_logs(root / "claude", rng)
    _codex_logs(root / "codex", rng)
    return {"ccusage": binary, "root": root}


# burntray's --by, ccusage's report and the key ccusage names its period by
KINDS = {"day": ("daily", "date", "date"), "week": ("weekly", "week", "week"),
         "month": ("monthly", "month", "month")}  # fmt: skip


# ccusage has no weekly report for Codex
CASES = [("claude", "day"), ("claude", "week"), ("claude", "month"), ("codex", "day"),
         ("codex", "month")]  # fmt: skip


@pytest.mark.parametrize(("agent", "by"), CASES)
def test_periods_match_ccusage(
    logs: dict[str, Path], agent: str, by: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = logs["root"]
    env = {"CLAUDE_CONFIG_DIR": str(root / "claude")} if agent == "claude" else {
        "CODEX_HOME": str(root / "codex")}  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("TZ", "UTC")
    report, ours_key, their_key = KINDS[by]
    done = burntray("status", "--by", by, "--source", agent, "--window", "all", "--format",
                    "json", "--timezone", "UTC", timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    ours = {row[ours_key]: row for row in json.loads(done.stdout)["rows"]}
    theirs = run_ccusage(logs["ccusage"], agent, env, root / "home", report)
    periods = theirs[report]
    assert isinstance(periods, list) and len(periods) >= (3 if by == "month" else 4)
    assert sorted(ours) == sorted(p[their_key] for p in periods)
    for period in periods:
        mine = ours[period[their_key]]
        assert mine["input_tokens"] == period["inputTokens"], period[their_key]
        assert mine["output_tokens"] == period["outputTokens"], period[their_key]
        assert mine["cache_read_tokens"] == period["cacheReadTokens"], period[their_key]
        assert mine["cache_write_tokens"] == period["cacheCreationTokens"], period[their_key]
        cost = period["totalCost"] if agent == "claude" else period["costUSD"]
        assert mine["cost_usd"] == pytest.approx(cost, rel=0.005, abs=1e-6), period[their_key]
    # the same months again, now by date range: January 2026 alone
    january = burntray(
        "status", "--by", "month", "--source", agent, "--since", "20260101",
        "--until", "2026-01-31", "--format", "json", "--timezone", "UTC",
    )  # fmt: skip
    assert january.returncode == 0, january.stderr
    rows = json.loads(january.stdout)["rows"]
    assert [r["month"] for r in rows] == ["2026-01"]
    if by != "week":  # ccusage's days and months of January add up to the same
        want = sum(p["outputTokens"] for p in periods if p[their_key].startswith("2026-01"))
        assert rows[0]["output_tokens"] == want
