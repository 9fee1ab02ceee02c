"""Claude Code and Codex log fixtures, and the real ccusage to compare burntray with.

The fixtures hold every case the readers must get right: streaming duplicates, sidechain
replays, subagent files, a ``costUSD`` line, 1-hour cache writes, the 200k tier, an unknown
model, malformed lines, user lines without usage, and (Codex) ``total_token_usage`` deltas,
archived copies and a session without a ``turn_context``.

ccusage is the npm package ``ccusage@20.0.24`` (with its native ``@ccusage/ccusage-linux-x64``);
``ccusage_binary()`` installs it under ``.venv/`` with npm when it is missing (``.ci/run`` does
that before the tests), and returns None only when npm itself is absent.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable
from pathlib import Path

from burntray.model.usage import UsageRecord

CCUSAGE_VERSION = "20.0.24"
REPO = Path(__file__).resolve().parent.parent
CCUSAGE_DIR = REPO / ".venv" / f"ccusage-{CCUSAGE_VERSION}"


def _compact(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def ccusage_binary() -> Path | None:
    """The native ccusage binary (installing the npm package if needed); None without npm."""
    native = CCUSAGE_DIR / "node_modules" / "@ccusage" / "ccusage-linux-x64" / "bin" / "ccusage"
    if native.exists():
        return _executable(native)
    npm = shutil.which("npm")
    if npm is None:
        return None
    CCUSAGE_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(CCUSAGE_DIR),
         f"ccusage@{CCUSAGE_VERSION}"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    if not native.exists():
        raise RuntimeError(f"npm installed ccusage@{CCUSAGE_VERSION} but {native} is missing")
    return _executable(native)


def _executable(native: Path) -> Path:
    # The npm tarball may unpack the binary without its exec bit (the JS wrapper sets it on
    # first run); this is our own installed copy, so set it here.
    mode = native.stat().st_mode
    if not mode & 0o100:
        native.chmod(mode | 0o111)
    return native


def run_ccusage(
    binary: Path, agent: str, env: dict[str, str], home: Path, report: str = "daily"
) -> dict[str, object]:
    """``ccusage <agent> <report> --json --offline`` in UTC (report: daily, weekly, monthly),
    with only ``env`` pointing at data."""
    full_env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "TZ": "UTC", **env}
    done = subprocess.run(
        [str(binary), agent, report, "--json", "--offline", "--timezone", "UTC"],
        env=full_env, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    result: dict[str, object] = json.loads(done.stdout)
    return result


def per_day(records: Iterable[UsageRecord]) -> dict[str, dict[str, float]]:
    """Our records summed per UTC day, in ccusage's terms."""
    days: dict[str, dict[str, float]] = collections.defaultdict(
        lambda: collections.defaultdict(float)
    )
    for r in records:
        day = dt.datetime.fromtimestamp(r.ts_ns / 1e9, dt.UTC).strftime("%Y-%m-%d")
        d = days[day]
        d["input"] += r.input_tokens
        d["output"] += r.output_tokens
        d["cache_write"] += r.cache_write_tokens
        d["cache_read"] += r.cache_read_tokens
        d["cost"] += r.cost_usd or 0.0
        d["unpriced"] += r.cost_usd is None
    return {k: dict(v) for k, v in days.items()}


# ---- Claude Code --------------------------------------------------------------------------


def claude_line(  # noqa: PLR0917 - a log line reads best as (ts, ids, model, tokens)
    ts: str,
    mid: str | None,
    rid: str | None,
    model: str,
    inp: int,
    out: int,
    cache_write: int = 0,
    cache_read: int = 0,
    *,
    session: str = "s1",
    sidechain: bool = False,
    cost_usd: float | None = None,
    write_1h: int | None = None,
    text: str = "ok",
    branch: object = None,
) -> str:
    usage: dict[str, object] = {
        "input_tokens": inp,
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "output_tokens": out,
        "service_tier": "standard",
    }
    if write_1h is not None:
        usage["cache_creation"] = {
            "ephemeral_5m_input_tokens": cache_write - write_1h,
            "ephemeral_1h_input_tokens": write_1h,
        }
    message: dict[str, object] = {
        "model": model,
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": text}],
        "usage": usage,
    }
    if mid is not None:
        message["id"] = mid
    line: dict[str, object] = {
        "parentUuid": "p",
        "isSidechain": sidechain,
        "userType": "external",
        "cwd": "/work/project",
        "sessionId": session,
        "version": "2.0.14",
        "type": "assistant",
        "message": message,
        "uuid": f"u-{mid}-{rid}",
        "timestamp": ts,
    }
    if rid is not None:
        line["requestId"] = rid
    if cost_usd is not None:
        line["costUSD"] = cost_usd
    if branch is not None:
        line["gitBranch"] = branch
    return _compact(line)


def user_line(ts: str, text: str) -> str:
    return _compact(
        {
            "type": "user",
            "sessionId": "s1",
            "timestamp": ts,
            "message": {"role": "user", "content": text},
        }
    )


def write_claude_fixture(config_dir: Path) -> dict[str, Path]:
    """A Claude config folder with every tricky case; returns the files by role."""
    projects = config_dir / "projects"
    main = projects / "-work-project" / "s1.jsonl"
    sub = projects / "-work-project" / "s1" / "subagents" / "agent-1.jsonl"
    other = projects / "-work-other" / "s2.jsonl"
    for f in (main, sub, other):
        f.parent.mkdir(parents=True, exist_ok=True)
    sonnet, opus = "claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805"
    main_lines = [
        user_line("2026-11-20T09:00:00.000Z", "hello " * 200),
        # streaming duplicates of one request: the largest counts
        claude_line("2026-11-20T09:00:01.000Z", "msg_1", "req_1", sonnet, 10, 1, 500, 0),
        claude_line("2026-11-20T09:00:02.000Z", "msg_1", "req_1", sonnet, 10, 250, 500, 0),
        claude_line("2026-11-20T09:00:02.500Z", "msg_1", "req_1", sonnet, 10, 120, 500, 0),
        # an old-version line with its own costUSD
        claude_line("2026-11-20T10:00:00.000Z", "msg_2", "req_2", sonnet, 100, 50, cost_usd=0.5),
        # a 1-hour cache write
        claude_line(
            "2026-11-20T11:00:00.000Z", "msg_3", "req_3", sonnet, 20, 30, 4000, 1000, write_1h=3000
        ),
        # above the 200k tier
        claude_line(
            "2026-11-20T12:00:00.000Z", "msg_4", "req_4", sonnet, 250_000, 1000, 0, 300_000
        ),
        # a model no price table knows
        claude_line("2026-11-20T13:00:00.000Z", "msg_5", "req_5", "claude-imaginary-9", 40, 60),
        # malformed (cut) line that still holds the usage marker
        '{"type":"assistant","message":{"usage":{"input_tokens":5,',
        # synthetic (no model label), no tokens
        claude_line("2026-11-20T14:00:00.000Z", "msg_6", "req_6", "<synthetic>", 0, 0),
        "not json at all",
        # next day, late evening
        claude_line("2026-11-21T23:59:59.999Z", "msg_7", "req_7", sonnet, 7, 70, 700, 7000),
    ]
    main.write_text("\n".join(main_lines) + "\n")
    sub_lines = [
        # the subagent's own request
        claude_line(
            "2026-11-20T09:30:00.000Z", "msg_s1", "req_s1", sonnet, 15, 25, 0, 800, sidechain=True
        ),
        # a sidechain replay of the parent's request under another requestId: counted once
        claude_line(
            "2026-11-20T09:30:01.000Z",
            "msg_1",
            "req_replay",
            sonnet,
            10,
            250,
            500,
            90_000,
            sidechain=True,
        ),
    ]
    sub.write_text("\n".join(sub_lines) + "\n")
    other_lines = [
        claude_line("2026-11-22T08:00:00.000Z", "msg_o1", "req_o1", opus, 1000, 2000, 3000, 4000),
        # lines without message.id are never deduplicated: both count
        claude_line("2026-11-22T08:05:00.000Z", None, "req_o2", opus, 1, 2, 3, 4),
        claude_line("2026-11-22T08:05:00.000Z", None, "req_o2", opus, 1, 2, 3, 4),
    ]
    other.write_text("\n".join(other_lines) + "\n")
    return {"main": main, "subagent": sub, "other": other}


# ---- Codex --------------------------------------------------------------------------------


def codex_usage(inp: int, cached: int, out: int, reasoning: int = 0) -> dict[str, int]:
    return {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out,
    }


def codex_token_count(
    ts: str,
    last: dict[str, int] | None,
    total: dict[str, int] | None,
    rate_limits: dict[str, object] | None = None,
) -> str:
    info = None
    if last is not None or total is not None:
        info = {"model_context_window": 272000}
        if last is not None:
            info["last_token_usage"] = last  # type: ignore[assignment]
        if total is not None:
            info["total_token_usage"] = total  # type: ignore[assignment]
    return _compact(
        {
            "timestamp": ts,
            "type": "event_msg",
            "payload": {"type": "token_count", "info": info, "rate_limits": rate_limits},
        }
    )


def codex_window(
    used: float, minutes: int, *, resets_at: int | None = None, resets_in: int | None = None
) -> dict[str, object]:
    """One window of a token_count's ``rate_limits`` as Codex writes it."""
    out: dict[str, object] = {"used_percent": used, "window_minutes": minutes}
    if resets_at is not None:
        out["resets_at"] = resets_at
    if resets_in is not None:
        out["resets_in_seconds"] = resets_in
    return out


def codex_limit_reached(
    ts: str, *, resets_at: int | None = None, resets_in: int | None = None
) -> str:
    """An ``error`` event saying the plan's usage limit was reached."""
    error: dict[str, object] = {"type": "usage_limit_reached"}
    if resets_at is not None:
        error["resets_at"] = resets_at
    if resets_in is not None:
        error["resets_in_seconds"] = resets_in
    return _compact(
        {
            "timestamp": ts,
            "type": "event_msg",
            "payload": {"type": "error", "message": "You've hit your usage limit.", "error": error},
        }
    )


def codex_turn_context(ts: str, model: str, cwd: object = "/work") -> str:
    return _compact(
        {
            "timestamp": ts,
            "type": "turn_context",
            "payload": {"cwd": cwd, "approval_policy": "never", "model": model},
        }
    )


def codex_other(ts: str, text: str) -> str:
    return _compact(
        {
            "timestamp": ts,
            "type": "response_item",
            "payload": {"type": "message", "role": "user", "content": [{"text": text}]},
        }
    )


def write_codex_fixture(home: Path) -> dict[str, Path]:
    sessions = home / "sessions" / "2026" / "11" / "20"
    archived = home / "archived_sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    archived.mkdir(parents=True, exist_ok=True)
    a = sessions / "rollout-2026-11-20T09-00-00-a.jsonl"
    a_lines = [
        _compact(
            {
                "timestamp": "2026-11-20T09:00:00.000Z",
                "type": "session_meta",
                "payload": {"id": "a", "cwd": "/work"},
            }
        ),
        codex_turn_context("2026-11-20T09:00:00.100Z", "gpt-5-codex"),
        codex_other("2026-11-20T09:00:00.200Z", "do the thing " * 100),
        codex_token_count("2026-11-20T09:00:01.000Z", None, None),  # rate limits only
        codex_token_count(
            "2026-11-20T09:00:02.000Z",
            codex_usage(1000, 200, 300, 100),
            codex_usage(1000, 200, 300, 100),
        ),
        # only totals: the delta counts
        codex_token_count("2026-11-20T09:01:00.000Z", None, codex_usage(5000, 3000, 700, 200)),
        # the same totals again: a zero delta, skipped
        codex_token_count("2026-11-20T09:01:01.000Z", None, codex_usage(5000, 3000, 700, 200)),
        "{broken",
        codex_turn_context("2026-11-20T10:00:00.000Z", "gpt-5-mini"),
        codex_token_count(
            "2026-11-20T10:00:05.000Z",
            codex_usage(20_000, 18_000, 900),
            codex_usage(25_000, 21_000, 1600),
        ),
        codex_turn_context("2026-11-21T10:00:00.000Z", "gpt-imaginary-9"),
        codex_token_count("2026-11-21T10:00:05.000Z", codex_usage(300, 0, 40), None),
    ]
    a.write_text("\n".join(a_lines) + "\n")
    # An archived copy of the same session: counted once (sessions/ wins).
    archived_copy = archived / "2026" / "11" / "20" / a.name
    archived_copy.parent.mkdir(parents=True, exist_ok=True)
    archived_copy.write_text("\n".join(a_lines) + "\n")
    # An archived-only session without a turn_context: the model falls back to gpt-5.
    b = archived / "rollout-2026-11-22T07-00-00-b.jsonl"
    b.write_text(
        "\n".join(
            [
                codex_other("2026-11-22T07:00:00.000Z", "hi"),
                codex_token_count("2026-11-22T07:00:03.000Z", codex_usage(4000, 1000, 500), None),
            ]
        )
        + "\n"
    )
    return {"session": a, "archived_copy": archived_copy, "archived_only": b}


# ---- generated logs of realistic size (benchmarks, memory tests) -----------------------------


def generate_claude_logs(
    projects: Path, total_bytes: int, files: int, *, seed: int = 7, end_ts: float | None = None
) -> int:
    """Write ``files`` session logs totalling about ``total_bytes`` under ``projects``.

    Each turn is what Claude Code writes: a user line with a tool result (1-12 KB), then the
    assistant message twice (a streaming snapshot, then the final line), ~1.5 KB each with text.
    Timestamps run over the 10 days before ``end_ts`` (default now). Returns the turns written.
    """
    import random
    import time

    rng = random.Random(seed)
    end = time.time() if end_ts is None else end_ts
    per_file = max(1, total_bytes // files)
    models = ["claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5-20251001"]
    filler = "".join(rng.choice("abcdefghij klmnopqrstuvwxyz") for _ in range(16_000))
    turns = 0
    for f in range(files):
        folder = projects / f"-work-project-{f % 40}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"session-{f:05d}.jsonl"
        written = 0
        t0 = end - 10 * 86400 + rng.random() * 9 * 86400
        with path.open("w") as fh:
            n = 0
            while written < per_file:
                n += 1
                ts = dt.datetime.fromtimestamp(t0 + n * 7, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
                stamp = ts[:-3] + "Z"
                size = rng.randint(1000, 12000)
                start = rng.randint(0, len(filler) - size)
                user = _compact({
                    "parentUuid": f"p{n}", "isSidechain": False, "userType": "external",
                    "cwd": "/work/project", "sessionId": f"s{f}", "version": "2.0.14",
                    "type": "user", "timestamp": stamp,
                    "message": {"role": "user", "content": [{"type": "tool_result",
                                "tool_use_id": f"t{n}", "content": filler[start:start + size]}]},
                })  # fmt: skip
                model = models[n % 3]
                text = filler[start : start + rng.randint(600, 1400)]
                usage = (rng.randint(1, 50), rng.randint(0, 3000), rng.randint(0, 120_000))
                lines = [user]
                for out in (1, rng.randint(20, 2000)):
                    lines.append(
                        claude_line(stamp, f"msg_{f}_{n}", f"req_{f}_{n}", model, usage[0], out,
                                    usage[1], usage[2], session=f"s{f}", text=text)
                    )  # fmt: skip
                block = "\n".join(lines) + "\n"
                fh.write(block)
                written += len(block)
                turns += 1
    return turns


def generate_heavy_week(
    config_dir: Path,
    *,
    requests: int = 240_000,
    total_bytes: int = 153 * 1024 * 1024,
    sessions: int = 6,
    end_ts: float | None = None,
    seed: int = 11,
) -> int:
    """A heavy user's week of Claude Code logs (issue 22) in the real layout; returns the bytes.

    ``sessions`` busy sessions share ``requests`` requests over the 7 days before ``end_ts``
    (default now), each day active for 17 hours up to the same time of day as ``end_ts`` and
    idle for 7 (so 5-hour blocks chain through a day and start afresh after each night). The
    last request is a few seconds before ``end_ts``: a block is active then. Every tenth
    request is streamed (a first line with 1 output token, then the final one), every fifth
    follows a user line, and the assistant text is sized so the files total ``total_bytes``.
    """
    import random
    import time

    rng = random.Random(seed)
    end = time.time() if end_ts is None else end_ts
    models = ["claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5-20251001"]
    filler = "".join(rng.choice("abcdefghij klmnopqrstuvwxyz") for _ in range(8_000))
    active_s, days = 17 * 3600, 7
    per_session = requests // sessions
    base = len(claude_line("2026-11-20T09:00:00.000Z", "msg_0_000000", "req_0_000000",
                           models[0], 10, 100, 1000, 10000, session="s0", text=""))  # fmt: skip
    budget = max(0, total_bytes // requests - base - 110)  # ~110 B: streamed, user lines
    written = 0
    for s in range(sessions):
        session = f"{s:08x}-0000-4000-8000-{s:012x}"
        path = config_dir / "projects" / f"-work-project-{s}" / f"{session}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        step = days * active_s / per_session
        with path.open("w") as fh:
            for n in range(per_session):
                active = (per_session - 1 - n) * step + rng.random() * step * 0.5 + 2 + s
                day, into = divmod(active, active_s)  # seconds before end, active time only
                ts = end - day * 86400 - into
                stamp = dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
                stamp = stamp[:-3] + "Z"
                model = models[(n // 7 + s) % 3]
                size = rng.randint(budget // 2, budget * 3 // 2) if budget else 0
                at = rng.randint(0, len(filler) - size)
                text = filler[at : at + size]
                usage = (rng.randint(1, 50), rng.randint(0, 3000), rng.randint(0, 120_000))
                mid, rid = f"msg_{s}_{n:06d}", f"req_{s}_{n:06d}"
                lines = []
                if n % 5 == 0:
                    lines.append(user_line(stamp, "go on"))
                if n % 10 == 0:
                    lines.append(claude_line(stamp, mid, rid, model, usage[0], 1, usage[1],
                                             usage[2], session=session, text=""))  # fmt: skip
                out = rng.randint(20, 2000)
                lines.append(claude_line(stamp, mid, rid, model, usage[0], out, usage[1],
                                         usage[2], session=session, text=text))  # fmt: skip
                chunk = "\n".join(lines) + "\n"
                fh.write(chunk)
                written += len(chunk)
    return written


# ---- OpenCode -----------------------------------------------------------------------------

OPENCODE_SCHEMA = (
    "CREATE TABLE session (id TEXT PRIMARY KEY, directory TEXT NOT NULL, title TEXT, "
    "time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL)",
    "CREATE TABLE message (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, "
    "time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, data TEXT NOT NULL)",
)


def opencode_message(  # noqa: PLR0917 - a message reads best as (ts, model, tokens)
    created_ms: int,
    provider: str,
    model: str,
    inp: int,
    out: int,
    read: int = 0,
    write: int = 0,
    *,
    reasoning: int = 0,
    total: bool = True,
    cost: float = 0.0,
    msg_id: str | None = None,
    session: str | None = None,
) -> dict[str, object]:
    """An assistant message as OpenCode stores it (the database row's ``data``, or with ``id``
    and ``sessionID`` a legacy ``storage/message`` file)."""
    tokens: dict[str, object] = {
        "input": inp, "output": out, "reasoning": reasoning, "cache": {"read": read, "write": write}
    }  # fmt: skip
    if total:
        tokens["total"] = inp + out + reasoning + read + write
    msg: dict[str, object] = {
        "role": "assistant", "parentID": "msg_user", "mode": "build", "agent": "build",
        "path": {"cwd": "/work/app", "root": "/work/app"}, "system": [],
        "providerID": provider, "modelID": model,
        "time": {"created": created_ms, "completed": created_ms + 4000},
        "tokens": tokens, "cost": cost, "finish": "stop",
    }  # fmt: skip
    if msg_id is not None:
        msg["id"] = msg_id
    if session is not None:
        msg["sessionID"] = session
    return msg


def agent_db(path: Path, *statements: str) -> sqlite3.Connection:
    """A new database in WAL mode (what OpenCode, Goose and Hermes run in) with the schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    for statement in statements:
        conn.execute(statement)
    return conn


def opencode_db(path: Path) -> sqlite3.Connection:
    return agent_db(path, *OPENCODE_SCHEMA)


def opencode_put(
    conn: sqlite3.Connection, msg_id: str, session: str, data: dict[str, object] | str
) -> None:
    """Insert or update one message row (an update bumps ``time_updated``, as OpenCode does
    when a streaming message gets its final tokens)."""
    text = data if isinstance(data, str) else _compact(data)
    created = data.get("time", {}).get("created", 0) if isinstance(data, dict) else 0  # type: ignore[union-attr]
    row = conn.execute("SELECT time_updated FROM message WHERE id = ?", (msg_id,)).fetchone()
    updated = (row[0] + 1) if row else created
    conn.execute(
        "INSERT INTO session (id, directory, time_created, time_updated) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (id) DO NOTHING", (session, "/work/app", created, created),
    )  # fmt: skip
    conn.execute(
        "INSERT INTO message (id, session_id, time_created, time_updated, data) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data, "
        "time_updated = excluded.time_updated",
        (msg_id, session, created, updated, text),
    )
    conn.commit()


def _ms(stamp: str) -> int:
    return int(dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)


def write_opencode_fixture(data_dir: Path) -> sqlite3.Connection:
    """An OpenCode data folder with its traps; returns the open database connection (WAL, a
    writer still holding it, as a running OpenCode does)."""
    sonnet, gpt = "claude-sonnet-4-5-20250929", "gpt-5"
    conn = opencode_db(data_dir / "opencode.db")
    put = opencode_put
    put(conn, "msg_01", "ses_a", opencode_message(_ms("2026-11-20T09:00:00Z"), "anthropic", sonnet,
                                                 120, 300, 5000, 800, cost=0.0))  # fmt: skip
    # OpenCode's own cost wins when it is above 0
    put(conn, "msg_02", "ses_a", opencode_message(_ms("2026-11-20T10:00:00Z"), "anthropic", sonnet,
                                                 50, 70, 100, 0, cost=0.0123))  # fmt: skip
    # reasoning (in total): billed as output; a subscription provider records cost 0
    put(conn, "msg_03", "ses_a", opencode_message(_ms("2026-11-20T11:00:00Z"), "openai", gpt,
                                                 900, 40, 3000, 0, reasoning=500))  # fmt: skip
    # a dotted Claude name through GitHub Copilot
    put(conn, "msg_04", "ses_b", opencode_message(_ms("2026-11-21T08:00:00Z"), "github-copilot",
                                                 "claude-sonnet-4.5", 10, 20, 30, 40))  # fmt: skip
    # a model nobody prices
    put(conn, "msg_05", "ses_b", opencode_message(_ms("2026-11-21T09:00:00Z"), "acme",
                                                 "imaginary-9", 40, 60))  # fmt: skip
    # a user message (no tokens) and a row whose JSON is cut off
    put(conn, "msg_06", "ses_b", {"role": "user", "time": {"created": _ms("2026-11-21T09:01:00Z")}})
    put(conn, "msg_07", "ses_b", '{"role":"assistant","tokens":{"input":5,')
    # an assistant message still streaming: zero tokens yet (its final tokens come later)
    put(conn, "msg_08", "ses_b", opencode_message(_ms("2026-11-22T07:00:00Z"), "anthropic", sonnet,
                                                 0, 0, total=False))  # fmt: skip
    # legacy JSON files: one only there, one the database also holds (the database wins)
    legacy = data_dir / "storage" / "message" / "ses_old"
    legacy.mkdir(parents=True, exist_ok=True)
    (legacy / "msg_old1.json").write_text(_compact(opencode_message(
        _ms("2026-11-19T12:00:00Z"), "anthropic", sonnet, 7, 8, 9, 10, msg_id="msg_old1",
        session="ses_old")))  # fmt: skip
    (legacy / "msg_01.json").write_text(_compact(opencode_message(
        _ms("2026-11-20T09:00:00Z"), "anthropic", sonnet, 999, 999, msg_id="msg_01",
        session="ses_a")))  # fmt: skip
    (legacy / "broken.json").write_text('{"id":"msg_x","tokens":')
    return conn


def generate_opencode_db(
    data_dir: Path, messages: int, *, seed: int = 7, end_ts: float | None = None
) -> None:
    """An ``opencode.db`` with ``messages`` assistant messages (and as many user messages), over
    the 10 days before ``end_ts`` (default now), in sessions of 40 messages (benchmarks)."""
    import random
    import time

    rng = random.Random(seed)
    end_ms = int((time.time() if end_ts is None else end_ts) * 1000)
    models = [("anthropic", "claude-sonnet-4-5-20250929"), ("openai", "gpt-5"),
              ("anthropic", "claude-haiku-4-5-20251001")]  # fmt: skip
    conn = opencode_db(data_dir / "opencode.db")
    rows = []
    for n in range(messages):
        created = end_ms - 10 * 86_400_000 + n * (10 * 86_400_000 // max(1, messages))
        provider, model = models[n % 3]
        session = f"ses_{n // 40:06d}"
        user = {"role": "user", "time": {"created": created - 1000}, "agent": "build",
                "model": {"providerID": provider, "modelID": model}}  # fmt: skip
        rows.append((f"msg_u{n:08d}", session, created - 1000, created - 1000, _compact(user)))
        msg = opencode_message(
            created, provider, model, rng.randint(1, 5000), rng.randint(20, 3000),
            rng.randint(0, 120_000), rng.randint(0, 8000), reasoning=rng.randint(0, 500),
        )  # fmt: skip
        rows.append((f"msg_a{n:08d}", session, created, created + 4000, _compact(msg)))
        if len(rows) >= 20_000:
            conn.executemany("INSERT INTO message VALUES (?, ?, ?, ?, ?)", rows)
            rows = []
    conn.executemany("INSERT INTO message VALUES (?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()


# ---- Gemini CLI ---------------------------------------------------------------------------


def gemini_tokens(
    inp: int, out: int, cached: int = 0, thoughts: int = 0, tool: int = 0
) -> dict[str, int]:
    """Gemini's usageMetadata as Gemini CLI records it: ``input`` includes ``cached``."""
    return {"input": inp, "output": out, "cached": cached, "thoughts": thoughts, "tool": tool,
            "total": inp + out + thoughts + tool}  # fmt: skip


def gemini_reply(
    msg_id: str, ts: str, model: str | None, tokens: dict[str, int] | None
) -> dict[str, object]:
    msg: dict[str, object] = {"id": msg_id, "timestamp": ts, "type": "gemini", "content": "done",
                              "thoughts": [{"subject": "plan", "description": "x"}]}  # fmt: skip
    if model is not None:
        msg["model"] = model
    if tokens is not None:
        msg["tokens"] = tokens
    return msg


def gemini_user(msg_id: str, ts: str) -> dict[str, object]:
    return {"id": msg_id, "timestamp": ts, "type": "user", "content": [{"text": "fix it " * 50}]}


def gemini_session(session: str, start: str, messages: list[dict[str, object]]) -> str:
    """A whole ``chats/session-*.json`` file (Gemini CLI rewrites it as the session goes)."""
    return _compact({"sessionId": session, "projectHash": "ab12" * 16, "startTime": start,
                     "lastUpdated": start, "messages": messages})  # fmt: skip


def write_gemini_fixture(tmp_dir: Path) -> dict[str, Path]:
    """A Gemini CLI ``~/.gemini/tmp`` with its traps; returns the files by role."""
    pro, flash = "gemini-2.5-pro", "gemini-2.5-flash"
    chats = tmp_dir / ("ab12" * 16) / "chats"
    chats.mkdir(parents=True, exist_ok=True)
    whole = chats / "session-2026-11-20T09-00-a1b2.json"
    whole.write_text(gemini_session("sess-a", "2026-11-20T09:00:00.000Z", [
        gemini_user("u1", "2026-11-20T09:00:00.000Z"),
        # cached inside input (total says so); thinking and a tool-use prompt
        gemini_reply("g1", "2026-11-20T09:00:05Z", pro, gemini_tokens(15327, 23, 11526, 919, 7)),
        {"id": "i1", "timestamp": "2026-11-20T09:01:00.000Z", "type": "info", "content": "x"},
        # no cache, flash
        gemini_reply("g2", "2026-11-20T10:00:00.000Z", flash, gemini_tokens(4000, 900, 0, 300)),
        # a reply without tokens (cancelled) and one with all zero
        gemini_reply("g3", "2026-11-20T10:05:00.000Z", flash, None),
        gemini_reply("g4", "2026-11-20T10:06:00.000Z", flash, gemini_tokens(0, 0)),
        # a model nobody prices
        gemini_reply("g5", "2026-11-20T11:00:00.000Z", "gemini-imaginary-9", gemini_tokens(50, 60)),
        # cached reported apart from input (total = input + cached + ...): input is uncached
        gemini_reply("g6", "2026-11-21T08:00:00.000Z", pro,
                     {"input": 700, "output": 30, "cached": 2000, "thoughts": 0, "tool": 0,
                      "total": 2730}),
        # only a total: it counts as output
        gemini_reply("g7", "2026-11-21T09:00:00.000Z", flash, {"total": 654}),
    ]))  # fmt: skip
    lines = chats / "session-2026-11-21T12-00-c3d4.jsonl"
    lines.write_text("\n".join([
        _compact({"sessionId": "sess-b", "projectHash": "ab12" * 16,
                  "startTime": "2026-11-21T12:00:00.000Z"}),
        _compact(gemini_user("u1", "2026-11-21T12:00:00.000Z")),
        # written while streaming, then again with its final tokens under the same id
        _compact(gemini_reply("b1", "2026-11-21T12:00:03.000Z", flash, gemini_tokens(100, 1))),
        _compact(gemini_reply("b1", "2026-11-21T12:00:09.000Z", flash,
                              gemini_tokens(8000, 1200, 6000, 150))),
        '{"id":"b2","type":"gemini","tokens":{"input":',  # cut off
        # the model comes from an earlier line
        _compact(gemini_reply("b3", "2026-11-22T07:00:00.000Z", None, gemini_tokens(300, 40))),
    ]) + "\n")  # fmt: skip
    # headless output saved beside them: per-model stats, cached always inside the prompt
    (tmp_dir / "headless-output.json").write_text(_compact({
        "response": "ok", "timestamp": "2026-11-22T06:00:00.000Z",
        "stats": {"models": {pro: {"api": {"totalRequests": 2},
                                   "tokens": {"prompt": 9000, "candidates": 400, "total": 9800,
                                              "cached": 3000, "thoughts": 400, "tool": 0}}}},
    }))  # fmt: skip
    # files without usage: the prompt log (an array) and a checkpoint
    (tmp_dir / ("ab12" * 16) / "logs.json").write_text(
        _compact([{"sessionId": "sess-a", "type": "user", "message": "hi"}])
    )
    (tmp_dir / ("ab12" * 16) / "checkpoint-x.json").write_text("[]")
    return {"whole": whole, "lines": lines}


def generate_gemini_chats(
    tmp_dir: Path, replies: int, *, seed: int = 7, end_ts: float | None = None
) -> None:
    """Gemini CLI session files (40 replies each, a user message before each) over the 10 days
    before ``end_ts`` (default now), in 20 project folders (benchmarks)."""
    import random
    import time

    rng = random.Random(seed)
    end = time.time() if end_ts is None else end_ts
    models = ["gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite"]
    filler = "".join(rng.choice("abcdefghij klmnopqrstuvwxyz") for _ in range(4000))
    for start in range(0, replies, 40):
        folder = tmp_dir / f"{start // 40 % 20:064x}" / "chats"
        folder.mkdir(parents=True, exist_ok=True)
        messages = []
        for n in range(start, min(start + 40, replies)):
            at = end - 10 * 86400 + n * (10 * 86400 / max(1, replies))
            ts = dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            user = gemini_user(f"u{n}", ts)
            user["content"] = [{"text": filler[: rng.randint(200, 4000)]}]
            inp = rng.randint(2000, 150_000)
            tokens = gemini_tokens(inp, rng.randint(20, 3000), rng.randint(0, inp),
                                   rng.randint(0, 800))  # fmt: skip
            reply = gemini_reply(f"g{n}", ts, models[n % 3], tokens)
            reply["content"] = filler[: rng.randint(200, 2000)]
            messages += [user, reply]
        session = f"session-{start:08d}"
        (folder / f"{session}.json").write_text(
            gemini_session(session, messages[0]["timestamp"], messages)
        )  # type: ignore[arg-type]


# ---- GitHub Copilot CLI -------------------------------------------------------------------


def _otel_time(stamp: str) -> list[int]:
    at = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return [int(at.timestamp()), at.microsecond * 1000]


def copilot_usage(
    inp: int, out: int, read: int = 0, write: int = 0, reasoning: int = 0
) -> dict[str, int]:
    """GenAI usage attributes as Copilot CLI exports them (input includes the cache reads)."""
    attrs = {"gen_ai.usage.input_tokens": inp + read, "gen_ai.usage.output_tokens": out}
    if read:
        attrs["gen_ai.usage.cache_read.input_tokens"] = read
    if write:
        attrs["gen_ai.usage.cache_creation.input_tokens"] = write
    if reasoning:
        attrs["gen_ai.usage.reasoning.output_tokens"] = reasoning
    return attrs


def copilot_chat_span(trace: str, span: str, end: str, model: str, usage: dict[str, int], *,
                      conversation: str = "conv-1", response: str | None = None,
                      ) -> str:  # fmt: skip
    attrs: dict[str, object] = {"gen_ai.operation.name": "chat", "gen_ai.request.model": model,
                                "gen_ai.response.model": model,
                                "gen_ai.conversation.id": conversation, **usage}  # fmt: skip
    if response:
        attrs["gen_ai.response.id"] = response
    return _compact({"type": "span", "traceId": trace, "spanId": span, "parentSpanId": "agent",
                     "name": f"chat {model}", "kind": 2, "startTime": _otel_time(end),
                     "endTime": _otel_time(end), "attributes": attrs,
                     "status": {"code": 0}})  # fmt: skip


def copilot_agent_span(trace: str, end: str, model: str, usage: dict[str, int]) -> str:
    attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.response.model": model,
             "gen_ai.conversation.id": "conv-1", **usage}  # fmt: skip
    return _compact({"type": "span", "traceId": trace, "spanId": "agent",
                     "name": "invoke_agent GitHub Copilot CLI", "endTime": _otel_time(end),
                     "attributes": attrs})  # fmt: skip


def copilot_inference_log(trace: str, span: str, at: str, model: str, usage: dict[str, int], *,
                          response: str | None = None) -> str:  # fmt: skip
    attrs: dict[str, object] = {"event.name": "gen_ai.client.inference.operation.details",
                                "gen_ai.response.model": model, **usage}  # fmt: skip
    if response:
        attrs["gen_ai.response.id"] = response
    return _compact({"hrTime": _otel_time(at), "spanContext": {"traceId": trace, "spanId": span},
                     "attributes": attrs, "_body": f"GenAI inference: {model}"})  # fmt: skip


def write_copilot_fixture(otel_dir: Path) -> Path:
    """A Copilot CLI telemetry file with its traps; returns it."""
    sonnet, gpt = "claude-sonnet-4.5", "gpt-5"
    otel_dir.mkdir(parents=True, exist_ok=True)
    path = otel_dir / "copilot-otel-1.jsonl"
    lines = [
        _compact({"type": "metric", "name": "gen_ai.client.token.usage"}),
        # a turn: two model calls (chat spans), their inference logs, the turn's summary span
        copilot_inference_log("t1", "c1", "2026-11-20T09:00:01Z", sonnet,
                              copilot_usage(100, 50, 4000, 300), response="r1"),
        copilot_chat_span("t1", "c1", "2026-11-20T09:00:01Z", sonnet,
                          copilot_usage(100, 50, 4000, 300), response="r1"),
        copilot_chat_span("t1", "c2", "2026-11-20T09:00:09Z", sonnet,
                          copilot_usage(80, 400, 4300, 0), response="r2"),
        copilot_agent_span("t1", "2026-11-20T09:00:10Z", sonnet,
                           copilot_usage(180, 450, 8300, 300)),
        # reasoning reported apart (it is inside the output)
        copilot_chat_span("t2", "c1", "2026-11-20T11:00:00Z", gpt,
                          copilot_usage(2000, 900, 10_000, reasoning=600)),
        '{"type":"span","traceId":"t3","attributes":{"gen_ai.usage.input',  # cut off
        # an older exporter: an inference log alone counts
        copilot_inference_log("t4", "x1", "2026-11-21T08:00:00Z", gpt, copilot_usage(700, 70)),
        # a summary span alone counts
        copilot_agent_span("t5", "2026-11-21T09:00:00Z", sonnet, copilot_usage(33, 44, 55, 66)),
        # a model nobody prices
        copilot_chat_span("t6", "c1", "2026-11-21T10:00:00Z", "imaginary-9", copilot_usage(10, 10)),
    ]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def generate_copilot_otel(
    otel_dir: Path, calls: int, *, seed: int = 7, end_ts: float | None = None
) -> None:
    """Copilot CLI telemetry files (one per 2,000 calls): per call an inference log and a chat
    span, per 5 calls a turn span, over the 10 days before ``end_ts`` (benchmarks)."""
    import random
    import time

    rng = random.Random(seed)
    end = time.time() if end_ts is None else end_ts
    models = ["claude-sonnet-4.5", "gpt-5", "gpt-5-mini"]
    otel_dir.mkdir(parents=True, exist_ok=True)
    for first in range(0, calls, 2000):
        lines = []
        for n in range(first, min(first + 2000, calls)):
            at = end - 10 * 86400 + n * (10 * 86400 / max(1, calls))
            ts = dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            model, trace = models[n % 3], f"trace{n // 5}"
            usage = copilot_usage(rng.randint(100, 5000), rng.randint(20, 3000),
                                  rng.randint(0, 100_000), rng.randint(0, 5000))  # fmt: skip
            lines.append(copilot_inference_log(trace, f"c{n}", ts, model, usage, response=f"r{n}"))
            lines.append(copilot_chat_span(trace, f"c{n}", ts, model, usage, response=f"r{n}"))
            if n % 5 == 4:
                lines.append(copilot_agent_span(trace, ts, model, usage))
        (otel_dir / f"copilot-{first // 2000}.jsonl").write_text("\n".join(lines) + "\n")


# ---- Amp ----------------------------------------------------------------------------------


def amp_reply(  # noqa: PLR0917 - a reply reads best as (id, ts, model, tokens)
    msg_id: int, ts: str, model: str, inp: int, out: int, write: int = 0, read: int = 0,
              **extra: int) -> dict[str, object]:  # fmt: skip
    """An assistant message of an Amp thread with its ``usage`` (input is uncached input)."""
    usage: dict[str, object] = {"model": model, "maxInputTokens": 168_000, "inputTokens": inp,
                                "outputTokens": out, "cacheCreationInputTokens": write,
                                "cacheReadInputTokens": read,
                                "totalInputTokens": inp + write + read,
                                "timestamp": ts, **extra}  # fmt: skip
    return {"role": "assistant", "messageId": msg_id, "content": [{"type": "text", "text": "ok"}],
            "state": {"type": "complete", "stopReason": "end_turn"}, "usage": usage}  # fmt: skip


def amp_thread(thread: str, messages: list[dict[str, object]], **extra: object) -> str:
    return _compact({"v": 42, "id": thread, "created": 1795165200000, "title": "fix the bug",
                     "messages": messages, "env": {"initial": {"platform": "linux"}},
                     **extra})  # fmt: skip


def write_amp_fixture(data_dir: Path) -> dict[str, Path]:
    """An Amp data folder with its traps; returns the thread files by role."""
    sonnet, haiku = "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"
    threads = data_dir / "threads"
    threads.mkdir(parents=True, exist_ok=True)
    user = {"role": "user", "messageId": 0, "content": [{"type": "text", "text": "hi " * 100}]}
    current = threads / "T-0a1b2c3d-0000-4000-8000-000000000001.json"
    current.write_text(amp_thread("T-0a1b2c3d-0000-4000-8000-000000000001", [
        user,
        amp_reply(1, "2026-11-20T09:00:00.000Z", sonnet, 10, 178, 986, 11372),
        amp_reply(2, "2026-11-20T09:01:00.000Z", haiku, 5, 42, 0, 12000),
        # a reply still streaming: no tokens yet
        amp_reply(3, "2026-11-20T09:02:00.000Z", sonnet, 0, 0),
        # only a total: it counts as output
        {"role": "assistant", "messageId": 4,
         "usage": {"model": haiku, "totalTokens": 345, "timestamp": "2026-11-21T08:00:00.000Z"}},
        amp_reply(5, "2026-11-21T09:00:00.000Z", "imaginary-9", 40, 60),
    ]))  # fmt: skip
    # an older thread with a usage ledger: events count, with the cache of their message
    ledger = threads / "T-0a1b2c3d-0000-4000-8000-000000000002.json"
    ledger.write_text(amp_thread("T-0a1b2c3d-0000-4000-8000-000000000002", [
        user,
        amp_reply(1, "2026-11-21T10:00:00.000Z", sonnet, 99, 99, 500, 7000),
    ], usageLedger={"events": [
        {"id": "ev-1", "timestamp": "2026-11-21T10:00:00.000Z", "model": sonnet,
         "credits": 1.5, "tokens": {"input": 12, "output": 340}, "toMessageId": 1},
        {"id": "ev-2", "timestamp": "2026-11-22T10:00:00.000Z", "model": "gpt-5",
         "tokens": {"total": 900}},
    ]}))  # fmt: skip
    (threads / "T-broken.json").write_text('{"id":"T-broken","messages":[{"role":')
    return {"current": current, "ledger": ledger}


def generate_amp_threads(
    threads: Path, replies: int, *, seed: int = 7, end_ts: float | None = None
) -> None:
    """Amp thread files of 40 replies (a user message before each) over the 10 days before
    ``end_ts`` (default now) (benchmarks)."""
    import random
    import time

    rng = random.Random(seed)
    end = time.time() if end_ts is None else end_ts
    models = ["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-1-20250805"]
    filler = "".join(rng.choice("abcdefghij klmnopqrstuvwxyz") for _ in range(4000))
    threads.mkdir(parents=True, exist_ok=True)
    for start in range(0, replies, 40):
        messages: list[dict[str, object]] = []
        for n in range(start, min(start + 40, replies)):
            at = end - 10 * 86400 + n * (10 * 86400 / max(1, replies))
            ts = dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            text = filler[: rng.randint(200, 4000)]
            messages.append({"role": "user", "messageId": 2 * (n - start),
                             "content": [{"type": "text", "text": text}]})  # fmt: skip
            tokens = (rng.randint(1, 50), rng.randint(20, 3000), rng.randint(0, 3000),
                      rng.randint(0, 120_000))  # fmt: skip
            reply = amp_reply(2 * (n - start) + 1, ts, models[n % 3], *tokens)
            reply["content"] = [{"type": "text", "text": filler[: rng.randint(200, 2000)]}]
            messages.append(reply)
        thread = f"T-{start:08d}-0000-4000-8000-000000000000"
        (threads / f"{thread}.json").write_text(amp_thread(thread, messages))


# ---- Qwen Code ----------------------------------------------------------------------------


def qwen_reply(  # noqa: PLR0917 - a reply reads best as (ts, session, model, tokens)
    ts: str, session: str, model: str, prompt: int, out: int, cached: int = 0,
               thoughts: int = 0, *, total: bool = True) -> str:  # fmt: skip
    """An assistant record of a Qwen Code chat log (Gemini's usageMetadata: the prompt count
    includes the cached part; thinking apart from the reply)."""
    usage = {"promptTokenCount": prompt, "candidatesTokenCount": out,
             "thoughtsTokenCount": thoughts, "cachedContentTokenCount": cached}  # fmt: skip
    if total:
        usage["totalTokenCount"] = prompt + out + thoughts
    return _compact({"uuid": f"u-{ts}", "parentUuid": "p", "sessionId": session, "timestamp": ts,
                     "type": "assistant", "cwd": "/work/app", "version": "0.2.1",
                     "gitBranch": "main", "model": model,
                     "message": {"role": "model", "parts": [{"text": "done"}]},
                     "usageMetadata": usage})  # fmt: skip


def qwen_user(ts: str, session: str) -> str:
    return _compact({"uuid": f"q-{ts}", "sessionId": session, "timestamp": ts, "type": "user",
                     "cwd": "/work/app",
                     "message": {"role": "user", "parts": [{"text": "go"}]}})  # fmt: skip


def write_qwen_fixture(data_dir: Path) -> dict[str, Path]:
    """A Qwen Code data folder with its traps; returns the chat logs by role."""
    coder, gpt = "qwen3-coder-plus", "gpt-5"
    chats = data_dir / "projects" / "-work-app" / "chats"
    chats.mkdir(parents=True, exist_ok=True)
    main = chats / "s1.jsonl"
    replies = [
        qwen_reply("2026-11-20T09:00:01.000Z", "s1", coder, 12_000, 300, 9_000),
        qwen_reply("2026-11-20T09:05:00.000Z", "s1", gpt, 20_000, 800, 16_000, 400),
        qwen_reply("2026-11-20T10:00:00.000Z", "s1", gpt, 5_000, 100),
    ]
    main.write_text("\n".join([
        qwen_user("2026-11-20T09:00:00.000Z", "s1"), *replies,
        '{"type":"assistant","usageMetadata":{"promptTokenCount":',  # cut off
        _compact({"type": "assistant", "sessionId": "s1", "timestamp": "2026-11-20T11:00:00Z",
                  "model": gpt, "usageMetadata": {"promptTokenCount": 0,
                                                  "candidatesTokenCount": 0}}),  # empty
        qwen_reply("2026-11-21T08:00:00.000Z", "s1", gpt, 900, 70, 0, 30, total=False),
    ]) + "\n")  # fmt: skip
    # the session resumed into another file: its replies copied there count once
    resumed = chats / "s1-resumed.jsonl"
    resumed.write_text("\n".join([*replies[1:], qwen_reply(
        "2026-11-22T07:00:00.000Z", "s1", gpt, 3_000, 50, 1_000)]) + "\n")  # fmt: skip
    # files elsewhere are not chat logs
    (data_dir / "projects" / "-work-app" / "other.jsonl").write_text(replies[0] + "\n")
    return {"main": main, "resumed": resumed}


def generate_qwen_chats(
    projects: Path, replies: int, *, seed: int = 7, end_ts: float | None = None
) -> None:
    """Qwen Code chat logs of 40 replies (a user record and a tool result before each) in 20
    projects, over the 10 days before ``end_ts`` (default now) (benchmarks)."""
    import random
    import time

    rng = random.Random(seed)
    end = time.time() if end_ts is None else end_ts
    filler = "".join(rng.choice("abcdefghij klmnopqrstuvwxyz") for _ in range(8000))
    for start in range(0, replies, 40):
        chats = projects / f"-work-p{start // 40 % 20}" / "chats"
        chats.mkdir(parents=True, exist_ok=True)
        session, lines = f"s{start:08d}", []
        for n in range(start, min(start + 40, replies)):
            at = end - 10 * 86400 + n * (10 * 86400 / max(1, replies))
            ts = dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            lines.append(qwen_user(ts, session))
            text = filler[: rng.randint(500, 8000)]
            lines.append(_compact({"type": "tool_result", "sessionId": session, "timestamp": ts,
                                   "message": {"parts": [{"text": text}]}}))  # fmt: skip
            prompt = rng.randint(2000, 150_000)
            lines.append(qwen_reply(ts, session, ("qwen3-coder-plus", "gpt-5")[n % 2], prompt,
                                    rng.randint(20, 3000), rng.randint(0, prompt)))  # fmt: skip
        (chats / f"{session}.jsonl").write_text("\n".join(lines) + "\n")


# ---- Kimi CLI -----------------------------------------------------------------------------


def kimi_status(  # noqa: PLR0917 - a step reads best as (ts, id, tokens)
    ts: str, msg_id: str | None, inp: int, out: int, read: int = 0, write: int = 0,
                total: int | None = None) -> str:  # fmt: skip
    """A ``StatusUpdate`` line of a Kimi wire log (input_other is the uncached input)."""
    at = dt.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
    usage = {"input_other": inp, "output": out, "input_cache_read": read,
             "input_cache_creation": write}  # fmt: skip
    if total is not None:
        usage = {"total": total}
    payload: dict[str, object] = {"token_usage": usage, "context_usage": 0.12}
    if msg_id is not None:
        payload["message_id"] = msg_id
    return _compact({"timestamp": at + 0.123456, "message": {"type": "StatusUpdate",
                                                            "payload": payload}})  # fmt: skip


def write_kimi_fixture(data_dir: Path, model: str = "kimi-k2") -> dict[str, Path]:
    """A Kimi data folder with its traps; returns the wire logs by role."""
    (data_dir / "config.json").parent.mkdir(parents=True, exist_ok=True)
    (data_dir / "config.json").write_text(_compact({"model": model, "theme": "dark"}))
    wire = data_dir / "sessions" / "4f2a" / "sess-a" / "wire.jsonl"
    wire.parent.mkdir(parents=True, exist_ok=True)
    step = kimi_status("2026-11-20T09:00:05Z", "m1", 1200, 300, 8000, 500)
    wire.write_text("\n".join([
        _compact({"type": "metadata", "protocol_version": "1.3"}),
        _compact({"timestamp": 1795165200.1, "message": {"type": "TurnBegin",
                                                        "payload": {"user_input": "fix it"}}}),
        step,
        step,  # logged twice: counted once
        kimi_status("2026-11-20T10:00:00Z", "m2", 0, 0),  # nothing used
        "not json",
        step[:90],  # cut off after its type
        kimi_status("2026-11-21T08:00:00Z", "m3", 0, 0, total=777),  # only a total
        kimi_status("2026-11-21T23:59:59Z", None, 40, 5, 1000),
    ]) + "\n")  # fmt: skip
    other = data_dir / "sessions" / "4f2a" / "sess-b" / "wire.jsonl"
    other.parent.mkdir(parents=True, exist_ok=True)
    other.write_text(kimi_status("2026-11-22T07:00:00Z", "b1", 10, 20, 30, 40) + "\n")
    # not a wire log at that depth
    (data_dir / "sessions" / "4f2a" / "wire.jsonl").write_text(step + "\n")
    return {"wire": wire, "other": other}


def generate_kimi_wires(
    data_dir: Path, steps: int, *, seed: int = 7, end_ts: float | None = None
) -> None:
    """Kimi wire logs of 40 steps (each with a turn, a tool call and its result) over the 10
    days before ``end_ts`` (default now) (benchmarks)."""
    import random
    import time

    rng = random.Random(seed)
    end = time.time() if end_ts is None else end_ts
    filler = "".join(rng.choice("abcdefghij klmnopqrstuvwxyz") for _ in range(8000))
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "config.json").write_text(_compact({"model": "kimi-k2"}))
    for start in range(0, steps, 40):
        wire = data_dir / "sessions" / f"g{start // 40 % 20}" / f"s{start:08d}" / "wire.jsonl"
        wire.parent.mkdir(parents=True, exist_ok=True)
        lines = [_compact({"type": "metadata", "protocol_version": "1.3"})]
        for n in range(start, min(start + 40, steps)):
            at = end - 10 * 86400 + n * (10 * 86400 / max(1, steps))
            ts = dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            text = filler[: rng.randint(500, 8000)]
            result = {"type": "ToolResult", "payload": {"output": text}}
            lines.append(_compact({"timestamp": at, "message": result}))
            lines.append(kimi_status(ts, f"m{n}", rng.randint(10, 5000), rng.randint(20, 3000),
                                     rng.randint(0, 100_000), rng.randint(0, 3000)))  # fmt: skip
        wire.write_text("\n".join(lines) + "\n")


# ---- Factory Droid ------------------------------------------------------------------------


def droid_settings(model: str | None, lock: str, at: str, usage: dict[str, int]) -> str:
    """A Droid ``<session>.settings.json``: the session's token totals so far."""
    doc: dict[str, object] = {"providerLock": lock, "providerLockTimestamp": at,
                              "autonomyMode": "auto-medium", "tokenUsage": usage}  # fmt: skip
    if model is not None:
        doc["model"] = model
    return _compact(doc)


def droid_usage(
    inp: int, out: int, write: int = 0, read: int = 0, thinking: int = 0
) -> dict[str, int]:
    return {"inputTokens": inp, "outputTokens": out, "cacheCreationTokens": write,
            "cacheReadTokens": read, "thinkingTokens": thinking}  # fmt: skip


def write_droid_fixture(sessions: Path) -> dict[str, Path]:
    """A Droid sessions folder with its traps; returns the settings files by role."""
    project = sessions / "-work-app"
    archive = sessions / "archive"
    for folder in (project, archive):
        folder.mkdir(parents=True, exist_ok=True)
    live = project / "s-live.settings.json"
    live.write_text(droid_settings("custom:Claude-Sonnet-4.5-[Anthropic]", "anthropic",
                                   "2026-11-20T09:00:00.000Z",
                                   droid_usage(1200, 3000, 5000, 90_000, 700)))  # fmt: skip
    # an archived, older snapshot of the same session: the latest counts
    (archive / "s-live.settings.json").write_text(droid_settings(
        "custom:Claude-Sonnet-4.5-[Anthropic]", "anthropic", "2026-11-19T09:00:00.000Z",
        droid_usage(100, 200)))  # fmt: skip
    # no model in the settings: the session log names it
    (project / "s-side.settings.json").write_text(droid_settings(
        None, "openai", "2026-11-21T10:00:00.000Z", droid_usage(4000, 800, 0, 20_000)))  # fmt: skip
    (project / "s-side.jsonl").write_text(
        _compact({"type": "session_start", "content": "Model: GPT-5 [OpenAI]"}) + "\n"
    )
    # only a total; nothing used; not JSON
    (project / "s-total.settings.json").write_text(droid_settings(
        "gpt-5", "openai", "2026-11-21T11:00:00.000Z", {"totalTokens": 456}))  # fmt: skip
    (project / "s-zero.settings.json").write_text(droid_settings(
        "gpt-5", "openai", "2026-11-21T12:00:00.000Z", droid_usage(0, 0)))  # fmt: skip
    (project / "s-bad.settings.json").write_text('{"tokenUsage": {"inputTokens": 5')
    # a model nobody prices
    (project / "s-odd.settings.json").write_text(droid_settings(
        "Imaginary-9 [Acme]", "acme", "2026-11-22T08:00:00.000Z", droid_usage(40, 60)))  # fmt: skip
    return {"live": live}


def generate_droid_sessions(
    sessions: Path, count: int, *, seed: int = 7, end_ts: float | None = None
) -> None:
    """``count`` Droid sessions (settings and a session log each) over the 10 days before
    ``end_ts`` (default now) (benchmarks)."""
    import random
    import time

    rng = random.Random(seed)
    end = time.time() if end_ts is None else end_ts
    filler = "".join(rng.choice("abcdefghij klmnopqrstuvwxyz") for _ in range(8000))
    (sessions / "-bench").mkdir(parents=True, exist_ok=True)
    for n in range(count):
        folder = sessions / f"-work-p{n % 20}"
        folder.mkdir(parents=True, exist_ok=True)
        at = end - 10 * 86400 + n * (10 * 86400 / max(1, count))
        ts = dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        usage = droid_usage(rng.randint(1000, 90_000), rng.randint(1000, 60_000),
                            rng.randint(0, 50_000), rng.randint(0, 3_000_000))  # fmt: skip
        (folder / f"s{n:06d}.settings.json").write_text(
            droid_settings("custom:Claude-Sonnet-4.5-[Anthropic]", "anthropic", ts, usage)
        )
        if n % 40 == 0:  # a session log now and then (burntray reads it only without a model)
            (folder / f"s{n:06d}.jsonl").write_text(_compact({"content": filler}) + "\n")


# ---- Codebuff -----------------------------------------------------------------------------


def codebuff_reply(msg_id: str | None, ts: str | None, model: str, usage: dict[str, object],
                   *, where: str = "usage", credits: float = 0.0) -> dict[str, object]:  # fmt: skip
    """An assistant message of a Codebuff chat, its usage in ``metadata.usage`` (or
    ``metadata.codebuff.usage``, or the run state's message history)."""
    metadata: dict[str, object] = {"model": model}
    if where == "usage":
        metadata["usage"] = usage
    elif where == "codebuff":
        metadata["codebuff"] = {"usage": usage}
    else:
        metadata["runState"] = {"sessionState": {"mainAgentState": {"messageHistory": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "providerOptions": {"codebuff": {"model": model,
                                                                   "usage": usage}}},
        ]}}}  # fmt: skip
    msg: dict[str, object] = {"variant": "ai", "content": "done", "metadata": metadata}
    if msg_id is not None:
        msg["id"] = msg_id
    if ts is not None:
        msg["timestamp"] = ts
    if credits:
        msg["credits"] = credits
    return msg


def write_codebuff_fixture(root: Path) -> dict[str, Path]:
    """A Codebuff ``~/.config/manicode`` with its traps; returns the chat files by role."""
    sonnet, gpt = "claude-sonnet-4-5-20250929", "gpt-5"
    chat = root / "projects" / "app" / "chats" / "2026-11-20T09-00-00.000Z" / "chat-messages.json"
    chat.parent.mkdir(parents=True, exist_ok=True)
    user = {"variant": "user", "content": "fix the bug " * 30}
    chat.write_text(_compact([
        user,
        codebuff_reply("m1", "2026-11-20T09:00:05.000Z", sonnet,
                       {"inputTokens": 40, "outputTokens": 900, "cacheReadInputTokens": 30_000,
                        "cacheCreationInputTokens": 2_000, "credits": 12}),
        codebuff_reply("m2", "2026-11-20T09:10:00.000Z", gpt,
                       {"promptTokens": 5_000, "completionTokens": 300,
                        "promptTokensDetails": {"cachedTokens": 2_000}}, where="codebuff"),
        codebuff_reply("m3", None, sonnet, {"inputTokens": 7, "outputTokens": 70},
                       where="history"),  # no time: the chat id's
        codebuff_reply("m4", "2026-11-21T10:00:00.000Z", gpt, {"totalTokens": 500}),
        codebuff_reply("m5", "2026-11-21T11:00:00.000Z", "imaginary-9",
                       {"inputTokens": 10, "outputTokens": 20}),
        codebuff_reply("m6", "2026-11-21T12:00:00.000Z", gpt, {}),  # nothing used
        # a message written twice under its id (the later copy counts)
        codebuff_reply("m4", "2026-11-21T10:00:00.000Z", gpt, {"totalTokens": 600}),
    ]))  # fmt: skip
    # a chat of the dev channel (a session of its own, here with the same messages)
    copy = root.parent / "manicode-dev" / "projects" / "app" / "chats" / chat.parent.name
    copy.mkdir(parents=True, exist_ok=True)
    (copy / "chat-messages.json").write_text(chat.read_text())
    broken = root / "projects" / "app" / "chats" / "2026-11-22T08-00-00.000Z"
    broken.mkdir(parents=True, exist_ok=True)
    (broken / "chat-messages.json").write_text('[{"variant":"ai","metadata":')
    return {"chat": chat}


def generate_codebuff_chats(
    projects: Path, replies: int, *, seed: int = 7, end_ts: float | None = None
) -> None:
    """Codebuff chat files of 40 replies (a user message before each) in 20 projects, over the
    10 days before ``end_ts`` (default now) (benchmarks)."""
    import random
    import time

    rng = random.Random(seed)
    end = time.time() if end_ts is None else end_ts
    filler = "".join(rng.choice("abcdefghij klmnopqrstuvwxyz") for _ in range(4000))
    for start in range(0, replies, 40):
        first = end - 10 * 86400 + start * (10 * 86400 / max(1, replies))
        chat_id = dt.datetime.fromtimestamp(first, dt.UTC).strftime("%Y-%m-%dT%H-%M-%S.000Z")
        chat = projects / f"p{start // 40 % 20}" / "chats" / f"{chat_id}-{start}"
        chat.mkdir(parents=True, exist_ok=True)
        messages: list[dict[str, object]] = []
        for n in range(start, min(start + 40, replies)):
            at = end - 10 * 86400 + n * (10 * 86400 / max(1, replies))
            ts = dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            messages.append({"variant": "user", "content": filler[: rng.randint(200, 4000)]})
            usage = {"inputTokens": rng.randint(1, 50), "outputTokens": rng.randint(20, 3000),
                     "cacheReadInputTokens": rng.randint(0, 120_000),
                     "cacheCreationInputTokens": rng.randint(0, 3000)}  # fmt: skip
            reply = codebuff_reply(f"m{n}", ts, "claude-sonnet-4-5-20250929", usage)
            reply["content"] = filler[: rng.randint(200, 2000)]
            messages.append(reply)
        (chat / "chat-messages.json").write_text(_compact(messages))


# ---- pi -----------------------------------------------------------------------------------


def pi_message(  # noqa: PLR0917 - a message reads best as (ts, provider, model, tokens)
    ts: str, provider: str, model: str, inp: int, out: int, read: int = 0, write: int = 0,
    *, cost: float | None = None,
) -> str:  # fmt: skip
    """An assistant message line of a pi session log, with pi's own cost when given."""
    usage: dict[str, object] = {"input": inp, "output": out, "cacheRead": read,
                                "cacheWrite": write,
                                "totalTokens": inp + out + read + write}  # fmt: skip
    if cost is not None:
        usage["cost"] = {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": cost}
    return _compact({"type": "message", "timestamp": ts, "message": {
        "role": "assistant", "content": [{"type": "text", "text": "done"}], "api": "messages",
        "provider": provider, "model": model, "usage": usage, "stopReason": "stop"}})  # fmt: skip


def write_pi_fixture(sessions: Path) -> dict[str, Path]:
    """A pi sessions folder with its traps; returns the logs by role."""
    sonnet = "claude-sonnet-4-5-20250929"
    project = sessions / "--work-app--"
    project.mkdir(parents=True, exist_ok=True)
    log = project / "2026-11-20T09-00-00-000Z_a1b2.jsonl"
    first = pi_message("2026-11-20T09:00:05.000Z", "anthropic", sonnet, 40, 900, 30_000, 2_000)
    log.write_text("\n".join([
        _compact({"type": "session", "id": "a1b2", "timestamp": "2026-11-20T09:00:00.000Z",
                  "cwd": "/work/app"}),
        _compact({"type": "message", "timestamp": "2026-11-20T09:00:01.000Z",
                  "message": {"role": "user", "content": "fix it"}}),
        first,
        pi_message("2026-11-20T10:00:00.000Z", "openai", "gpt-5", 4_000, 300, 2_000, cost=0.0123),
        '{"type":"message","timestamp":"2026-11-20T11:00:00Z","message":{"role":"assistant","usage":{',
        pi_message("2026-11-21T08:00:00.000Z", "acme", "imaginary-9", 10, 20),
        pi_message("2026-11-21T09:00:00.000Z", "openai", "gpt-5", 0, 0),  # nothing used
    ]) + "\n")  # fmt: skip
    # a copy of the session (pi's fork keeps the history): its messages count once
    fork = project / "2026-11-21T10-00-00-000Z_a1b2.jsonl"
    fork.write_text(first + "\n" + pi_message(
        "2026-11-22T07:00:00.000Z", "anthropic", sonnet, 7, 70, 700) + "\n")  # fmt: skip
    return {"log": log, "fork": fork}


def generate_pi_sessions(
    sessions: Path, messages: int, *, seed: int = 7, end_ts: float | None = None
) -> None:
    """pi session logs of 40 messages (a user message and a tool result before each) in 20
    projects, over the 10 days before ``end_ts`` (default now) (benchmarks)."""
    import random
    import time

    rng = random.Random(seed)
    end = time.time() if end_ts is None else end_ts
    filler = "".join(rng.choice("abcdefghij klmnopqrstuvwxyz") for _ in range(8000))
    for start in range(0, messages, 40):
        folder = sessions / f"--work-p{start // 40 % 20}--"
        folder.mkdir(parents=True, exist_ok=True)
        lines = []
        for n in range(start, min(start + 40, messages)):
            at = end - 10 * 86400 + n * (10 * 86400 / max(1, messages))
            ts = dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            text = filler[: rng.randint(500, 8000)]
            result = {"role": "toolResult", "content": text}
            lines.append(_compact({"type": "message", "timestamp": ts, "message": result}))
            lines.append(pi_message(ts, "anthropic", "claude-sonnet-4-5-20250929",
                                    rng.randint(1, 50), rng.randint(20, 3000),
                                    rng.randint(0, 120_000), rng.randint(0, 3000)))  # fmt: skip
        log = folder / f"2026-01-01T00-00-00-000Z_s{start:08d}.jsonl"
        log.write_text("\n".join(lines) + "\n")


# ---- Kilo ---------------------------------------------------------------------------------


def write_kilo_fixture(data_dir: Path) -> sqlite3.Connection:
    """A Kilo data folder (OpenCode's schema in ``kilo.db``) with its traps; returns the open
    database connection (WAL, held by its writer)."""
    sonnet = "claude-sonnet-4-5-20250929"
    conn = opencode_db(data_dir / "kilo.db")
    put = opencode_put
    # Kilo's own cost (its gateway's price) counts
    put(conn, "k1", "s1", opencode_message(_ms("2026-11-20T09:00:00Z"), "anthropic", sonnet,
                                          120, 300, 5000, 800, cost=0.0125))  # fmt: skip
    # thinking without a total: billed as output; no cost recorded: priced
    thinking = opencode_message(_ms("2026-11-20T10:00:00Z"), "openai", "gpt-5", 900, 40, 3000,
                                reasoning=500, total=False)  # fmt: skip
    del thinking["cost"]
    put(conn, "k2", "s1", thinking)
    # a time in seconds, and no provider
    no_provider = opencode_message(_ms("2026-11-21T08:00:00Z") // 1000, "", sonnet, 10, 20, 30)
    del no_provider["cost"]
    put(conn, "k3", "s2", no_provider)
    # a user message carrying tokens is not a reply
    user = opencode_message(_ms("2026-11-21T09:00:00Z"), "anthropic", sonnet, 999, 999)
    user["role"] = "user"
    put(conn, "k4", "s2", user)
    put(conn, "k5", "s2", '{"role":"assistant","tokens":{"input":')  # cut off
    unknown = opencode_message(_ms("2026-11-22T07:00:00Z"), "acme", "imaginary-9", 40, 60)
    del unknown["cost"]
    put(conn, "k6", "s2", unknown)
    return conn


# ---- Goose --------------------------------------------------------------------------------

GOOSE_SCHEMA = (
    "CREATE TABLE sessions (id TEXT PRIMARY KEY, name TEXT, description TEXT DEFAULT '', "
    "working_dir TEXT, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, "
    "updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, model_config_json TEXT, "
    "provider_name TEXT, total_tokens INTEGER, input_tokens INTEGER, output_tokens INTEGER, "
    "accumulated_total_tokens INTEGER, accumulated_input_tokens INTEGER, "
    "accumulated_output_tokens INTEGER)"
)


def goose_db(path: Path) -> sqlite3.Connection:
    return agent_db(path, GOOSE_SCHEMA)


def goose_put(  # noqa: PLR0917 - a session row reads best positionally
    conn: sqlite3.Connection, ident: str, model: str | None, provider: str | None,
    created: object, totals: tuple[int | None, int | None, int | None],
    updated: str | None = None,
) -> None:  # fmt: skip
    """Insert or update a session row with its accumulated (input, output, total) so far."""
    config = None if model is None else _compact({"model_name": model, "context_limit": 200000})
    inp, out, total = totals
    conn.execute(
        "INSERT INTO sessions (id, name, working_dir, created_at, updated_at, model_config_json, "
        "provider_name, total_tokens, input_tokens, output_tokens, accumulated_total_tokens, "
        "accumulated_input_tokens, accumulated_output_tokens) "
        "VALUES (?, 'work', '/work/app', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE "
        "SET updated_at = excluded.updated_at, accumulated_total_tokens = "
        "excluded.accumulated_total_tokens, accumulated_input_tokens = "
        "excluded.accumulated_input_tokens, accumulated_output_tokens = "
        "excluded.accumulated_output_tokens",
        (ident, created, updated or created, config, provider, 10, 5, 5, total, inp, out),
    )
    conn.commit()


def write_goose_fixture(db: Path) -> sqlite3.Connection:
    """A Goose sessions.db with its traps; returns the open connection (WAL, held)."""
    sonnet = "claude-sonnet-4-5-20250929"
    conn = goose_db(db)
    goose_put(conn, "20261120_1", sonnet, "anthropic", "2026-11-20 09:00:00", (12_000, 900, 12_900))
    # reasoning in the total only: billed as output; created_at in seconds
    goose_put(conn, "20261120_2", "gpt-5", "openai", str(_ms("2026-11-20T10:00:00Z") // 1000),
              (5_000, 300, 5_800))  # fmt: skip
    # no provider named: the model's; an RFC 3339 time
    goose_put(conn, "20261121_1", sonnet, None, "2026-11-21T08:00:00Z", (700, 70, None))
    goose_put(conn, "20261121_2", None, "anthropic", "2026-11-21 09:00:00", (1, 1, 2))  # no model
    goose_put(conn, "20261121_3", "imaginary-9", "acme", "2026-11-21 10:00:00", (40, 60, 100))
    goose_put(conn, "20261122_1", sonnet, "anthropic", "2026-11-22 07:00:00", (0, 0, 0))  # empty
    return conn


def generate_goose_sessions(
    db: Path, count: int, *, seed: int = 7, end_ts: float | None = None
) -> None:
    """A Goose sessions.db of ``count`` sessions over the 10 days before ``end_ts`` (benchmarks)."""
    import random
    import time

    rng = random.Random(seed)
    end = time.time() if end_ts is None else end_ts
    conn = goose_db(db)
    conn.execute("PRAGMA synchronous=OFF")  # a generator: a commit per row need not be durable
    for n in range(count):
        at = end - 10 * 86400 + n * (10 * 86400 / max(1, count))
        created = dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        inp, out = rng.randint(1000, 900_000), rng.randint(100, 60_000)
        goose_put(conn, f"s{n:06d}", "claude-sonnet-4-5-20250929", "anthropic", created,
                  (inp, out, inp + out))  # fmt: skip
    conn.close()


# ---- Hermes Agent -------------------------------------------------------------------------

HERMES_SCHEMA = (
    "CREATE TABLE sessions (id TEXT PRIMARY KEY, source TEXT NOT NULL DEFAULT 'cli', "
    "model TEXT, model_config TEXT, parent_session_id TEXT, started_at REAL NOT NULL, "
    "ended_at REAL, end_reason TEXT, message_count INTEGER DEFAULT 0, "
    "tool_call_count INTEGER DEFAULT 0, input_tokens INTEGER DEFAULT 0, "
    "output_tokens INTEGER DEFAULT 0, cache_read_tokens INTEGER DEFAULT 0, "
    "cache_write_tokens INTEGER DEFAULT 0, reasoning_tokens INTEGER DEFAULT 0, "
    "billing_provider TEXT, billing_mode TEXT, estimated_cost_usd REAL, actual_cost_usd REAL, "
    "cost_status TEXT, title TEXT)"
)


def hermes_db(path: Path) -> sqlite3.Connection:
    return agent_db(path, HERMES_SCHEMA)


def hermes_put(  # noqa: PLR0917 - a session row reads best positionally
    conn: sqlite3.Connection, ident: str, model: str | None, provider: str | None,
    started: float, tokens: tuple[int, int, int, int, int], cost: float | None = None,
    ended: float | None = None,
) -> None:  # fmt: skip
    """Insert or update a session with its totals so far (input, output, cache read, cache
    write, reasoning) and the billed cost (``actual_cost_usd``)."""
    inp, out, read, write, reasoning = tokens
    conn.execute(
        "INSERT INTO sessions (id, model, billing_provider, started_at, ended_at, message_count, "
        "input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, "
        "actual_cost_usd) VALUES (?, ?, ?, ?, ?, 4, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO "
        "UPDATE SET ended_at = excluded.ended_at, input_tokens = excluded.input_tokens, "
        "output_tokens = excluded.output_tokens, cache_read_tokens = excluded.cache_read_tokens, "
        "cache_write_tokens = excluded.cache_write_tokens, "
        "reasoning_tokens = excluded.reasoning_tokens, "
        "actual_cost_usd = excluded.actual_cost_usd",
        (ident, model, provider, started, ended, inp, out, read, write, reasoning, cost),
    )
    conn.commit()


def write_hermes_fixture(home: Path) -> sqlite3.Connection:
    """A Hermes home's state.db with its traps; returns the open connection (WAL, held)."""
    sonnet = "claude-sonnet-4-5-20250929"
    conn = hermes_db(home / "state.db")
    start = _ms("2026-11-20T09:00:00Z") / 1000
    hermes_put(conn, "h1", sonnet, "anthropic", start, (120, 900, 30_000, 2_000, 0))
    # the billed cost counts; reasoning billed as output
    hermes_put(conn, "h2", "claude-opus-4-1-20250805", "claude", start + 3600,
               (5_000, 300, 2_000, 0, 400), cost=0.0321)  # fmt: skip
    # reasoning, no cost recorded: priced (as output)
    hermes_put(conn, "h7", "claude-haiku-4-5-20251001", "anthropic", start + 7200,
               (900, 100, 0, 0, 50))  # fmt: skip
    # Hermes's estimate alone is not a cost: priced
    hermes_put(conn, "h8", sonnet, "anthropic", start + 9000, (10, 10, 0, 0, 0))
    conn.execute("UPDATE sessions SET estimated_cost_usd = 9.99 WHERE id = 'h8'")
    conn.commit()
    # no provider named; started_at in ms
    hermes_put(conn, "h3", sonnet, None, _ms("2026-11-21T08:00:00Z") + 0.0, (7, 70, 700, 0, 0))
    hermes_put(conn, "h4", None, "anthropic", start, (1, 1, 0, 0, 0))  # no model: left out
    hermes_put(conn, "h5", "imaginary-9", "acme", start + 86400, (40, 60, 0, 0, 0))
    hermes_put(conn, "h6", sonnet, "anthropic", start + 2 * 86400, (0, 0, 0, 0, 0))  # empty
    return conn


# ---- OpenClaw -----------------------------------------------------------------------------


def openclaw_message(at_ms: int | None, inp: int, out: int, read: int = 0, write: int = 0,
                     *, cost: float | None = None, model: str | None = None) -> str:  # fmt: skip
    usage: dict[str, object] = {"input": inp, "output": out, "cacheRead": read, "cacheWrite": write,
                                "totalTokens": inp + out + read + write}  # fmt: skip
    if cost is not None:
        usage["cost"] = {"input": 0, "output": 0, "total": cost}
    message: dict[str, object] = {"role": "assistant", "content": [{"type": "text", "text": "ok"}],
                                  "usage": usage}  # fmt: skip
    if at_ms is not None:
        message["timestamp"] = at_ms
    if model is not None:
        message["model"] = model
    return _compact({"type": "message", "id": f"m{at_ms}", "message": message})


def write_openclaw_fixture(state: Path) -> dict[str, Path]:
    """An OpenClaw state folder with its traps; returns the session logs by role."""
    sessions = state / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    log = sessions / "abc.jsonl"
    first = openclaw_message(_ms("2026-11-20T09:00:00Z"), 1660, 55, 108_928, cost=0.02)
    log.write_text("\n".join([
        _compact({"type": "session", "version": 3, "id": "abc", "cwd": "/work"}),
        _compact({"type": "model_change", "provider": "anthropic",
                  "modelId": "claude-sonnet-4-5-20250929"}),
        first,
        # no cost recorded: priced with the model named last
        openclaw_message(_ms("2026-11-20T10:00:00Z"), 300, 700, 5_000, 1_000),
        _compact({"type": "custom", "customType": "model-snapshot",
                  "data": {"provider": "openai", "modelId": "gpt-5"}}),
        openclaw_message(_ms("2026-11-21T08:00:00Z"), 4_000, 200, 2_000),
        '{"type":"message","message":{"role":"assistant","usage":{"input":',  # cut off
        openclaw_message(_ms("2026-11-21T09:00:00Z"), 40, 60, model="imaginary-9"),
    ]) + "\n")  # fmt: skip
    # the copy a reset left: its messages count once
    reset = sessions / "abc.jsonl.reset.2026-11-21T10-00-00.000Z"
    reset.write_text(log.read_text())
    (sessions / "sessions.json").write_text(_compact({"abc": {"updatedAt": 1}}))  # not a log
    return {"log": log, "reset": reset}


# ---- Grok Build CLI -------------------------------------------------------------------------


GrokModels = dict[str, tuple[int, int, int, int | None]]


def grok_turn(  # noqa: PLR0917 - a turn reads best as (time, event, tokens)
    ts: int, event: str | None, inp: int, out: int, cached: int = 0, created: int = 0,
    ticks: int | None = None, *, per_model: GrokModels | None = None,
) -> str:  # fmt: skip
    """A ``turn_completed`` notification of a Grok Build ``updates.jsonl`` (epoch seconds;
    the input counts the cache reads and writes; reasoning inside the output; ``per_model``:
    model -> (input, output, cache reads, ticks))."""
    usage: dict[str, object] = {"inputTokens": inp, "outputTokens": out, "totalTokens": inp + out,
                                "cachedReadTokens": cached, "cacheCreationTokens": created,
                                "reasoningTokens": out // 3, "modelCalls": 1}  # fmt: skip
    if ticks is not None:
        usage["costUsdTicks"] = ticks
    if per_model is not None:
        usage["modelUsage"] = {
            m: {"inputTokens": i, "outputTokens": o, "cachedReadTokens": c,
                **({} if t is None else {"costUsdTicks": t})}
            for m, (i, o, c, t) in per_model.items()
        }  # fmt: skip
    params: dict[str, object] = {"sessionId": "s", "update": {
        "sessionUpdate": "turn_completed", "prompt_id": f"p-{ts}", "stop_reason": "end_turn",
        "usage": usage}}  # fmt: skip
    if event is not None:
        params["_meta"] = {"eventId": event, "agentTimestampMs": ts * 1000}
    return _compact({"timestamp": ts, "method": "_x.ai/session_notification", "params": params})


def grok_chunk(ts: int) -> str:
    """A notification that is not a finished turn (a streamed message part)."""
    update = {"sessionUpdate": "agent_message_chunk", "content": {"text": "turn_completed"}}
    return _compact({"timestamp": ts, "method": "_x.ai/session_notification",
                     "params": {"_meta": {"eventId": f"c-{ts}"}, "update": update}})  # fmt: skip


def _epoch(stamp: str) -> int:
    return int(dt.datetime.fromisoformat(stamp).timestamp())


def write_grok_fixture(home: Path) -> dict[str, Path]:
    """A Grok home with its traps; returns the session logs by role."""
    sessions = home / "sessions"
    one = sessions / "%2Fwork%2Fapp" / "s-1"
    two = sessions / "%2Fwork%2Fapi" / "s-2"
    for d in (one, two):
        d.mkdir(parents=True, exist_ok=True)
    (one / "summary.json").write_text(_compact({
        "current_model_id": "grok-code-fast-1", "last_active_at": "2026-11-21T10:00:00.312121Z",
        "info": {"id": "s-1", "cwd": "/work/app"}}))  # fmt: skip
    (one / "signals.json").write_text('{"contextTokensUsed": 99999}')  # not usage
    first = grok_turn(_epoch("2026-11-20T09:00:00+00:00"), "e1", 100_000, 2_000, 80_000, 5_000,
                      10_000_000_000)  # fmt: skip
    main = one / "updates.jsonl"
    main.write_text("\n".join([
        grok_chunk(_epoch("2026-11-20T08:59:00+00:00")),
        first,
        first,  # written twice: counts once
        # no cost of its own (0 ticks: a subscription): priced by the session's model
        grok_turn(_epoch("2026-11-20T23:59:59+00:00"), "e2", 40_000, 900, 30_000, 0, 0),
        # cache reads beyond the prompt: the prompt is all cache reads
        grok_turn(_epoch("2026-11-21T00:00:00+00:00"), "e3", 50, 5, 80),
        # two models in the turn: each its own, the turn's sums not counted again
        grok_turn(_epoch("2026-11-21T08:00:00+00:00"), "e4", 1_000, 20, 10, per_model={
            "grok-4": (600, 10, 5, 100_000_000), "grok-code-fast-1": (400, 10, 5, None),
            "grok-3": (0, 0, 0, None)}),
        '{"timestamp":1795000000,"params":{"update":{"sessionUpdate":"turn_completed",',  # cut
        grok_turn(_epoch("2026-11-21T09:00:00+00:00"), "e5", 0, 0),  # empty
        # no event id: a verbatim copy counts once, a different turn at that second counts
        grok_turn(_epoch("2026-11-21T10:00:00+00:00"), None, 300, 30, ticks=5_000_000),
        grok_turn(_epoch("2026-11-21T10:00:00+00:00"), None, 300, 30, ticks=5_000_000),
        grok_turn(_epoch("2026-11-21T10:00:00+00:00"), None, 301, 30, ticks=5_000_000),
    ]) + "\n")  # fmt: skip
    # a copy of e1 in another session of the same model counts once
    three = sessions / "%2Fwork%2Fapp" / "s-3"
    three.mkdir()
    (three / "summary.json").write_text('{"current_model_id": "grok-code-fast-1"}')
    (three / "updates.jsonl").write_text(first + "\n")
    # a second session: no summary (model unknown: unpriced; $0 in ccusage unless it has ticks)
    # and a copy of e1, counted again as ccusage counts it (its key holds the model)
    other = two / "updates.jsonl"
    other.write_text("\n".join([
        first,
        grok_turn(_epoch("2026-11-22T07:00:00+00:00"), "e6", 3_000, 50, 1_000, ticks=70_000_000),
        grok_turn(_epoch("2026-11-22T07:30:00+00:00"), "e7", 30, 5),
    ]) + "\n")  # fmt: skip
    # files elsewhere are not session logs
    (sessions / "%2Fwork%2Fapp" / "updates.jsonl").write_text(first + "\n")
    (one / "events.jsonl").write_text(first + "\n")
    return {"main": main, "other": other}


# ---- ZCode ----------------------------------------------------------------------------------

ZCODE_COLUMNS = ("id TEXT PRIMARY KEY, session_id TEXT, provider_id TEXT, model_id TEXT, "
                 "status TEXT, started_at INTEGER, duration_ms INTEGER, input_tokens INTEGER, "
                 "output_tokens INTEGER, reasoning_tokens INTEGER, "
                 "cache_creation_input_tokens INTEGER, cache_read_input_tokens INTEGER, "
                 "computed_total_tokens INTEGER")  # fmt: skip


def zcode_db(home: Path, columns: str = ZCODE_COLUMNS) -> sqlite3.Connection:
    """ZCode's usage database in a ZCode home (its ``model_usage`` and ``session`` tables)."""
    path = home / "cli" / "db" / "db.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"CREATE TABLE IF NOT EXISTS model_usage ({columns})")
    conn.execute("CREATE TABLE IF NOT EXISTS session (id TEXT PRIMARY KEY, directory TEXT, "
                 "version INTEGER, time_archived INTEGER)")  # fmt: skip
    conn.commit()
    return conn


def zcode_call(  # noqa: PLR0917 - a call reads best as (conn, id, time, model, tokens)
    conn: sqlite3.Connection, call: str, stamp: str, model: str | None, inp: int, out: int,
    read: int = 0, write: int = 0, reasoning: int = 0, *, session: str = "sess_1",
    provider: str | None = "builtin:zai-coding-plan", status: str = "completed",
) -> None:  # fmt: skip
    """One model call (``input_tokens`` holds the cache reads and writes; the computed total
    is input + output + reasoning), written as ZCode writes it: started, then completed."""
    ms = int(dt.datetime.fromisoformat(stamp).timestamp() * 1000)
    conn.execute(
        "INSERT OR REPLACE INTO model_usage (id, session_id, provider_id, model_id, status, "
        "started_at, duration_ms, input_tokens, output_tokens, reasoning_tokens, "
        "cache_creation_input_tokens, cache_read_input_tokens, computed_total_tokens) "
        "VALUES (?, ?, ?, ?, ?, ?, 900, ?, ?, ?, ?, ?, ?)",
        (call, session, provider, model, status, ms, inp, out, reasoning, write, read,
         inp + out + reasoning),
    )  # fmt: skip
    conn.commit()


def write_zcode_fixture(home: Path) -> sqlite3.Connection:
    """A ZCode home with its traps; returns the open database (ZCode keeps writing)."""
    conn = zcode_db(home)
    conn.execute("INSERT INTO session VALUES ('sess_1', '/work/app', 2, NULL)")
    conn.commit()
    sonnet = "claude-sonnet-4-5"
    zcode_call(conn, "c1", "2026-11-20T09:00:00+00:00", "glm-4.6", 20_000, 800, 15_000, 1_000)
    zcode_call(conn, "c2", "2026-11-20T09:01:00+00:00", sonnet, 30_000, 500, 20_000, 2_000, 300)
    # cache reads beyond the prompt (as written by a retried call): the prompt is all reads
    zcode_call(conn, "c3", "2026-11-20T23:59:59+00:00", sonnet, 100, 50, 600)
    # not completed: not counted (cancelled, errored, still running)
    zcode_call(conn, "c4", "2026-11-21T08:00:00+00:00", sonnet, 9_000, 90, status="cancelled")
    zcode_call(conn, "c5", "2026-11-21T08:01:00+00:00", sonnet, 9_000, 90, status="error")
    zcode_call(conn, "c6", "2026-11-21T08:02:00+00:00", sonnet, 0, 0, status="running")
    # a call through a custom channel: its price unknown ($0 in ccusage, unpriced here)
    zcode_call(conn, "c7", "2026-11-21T09:00:00+00:00", "gpt-5", 5_000, 100, 4_000,
               session="sess_2", provider="0b7c2f1e-9d1a-4c55-a1f0-custom")  # fmt: skip
    # no provider recorded: ZCode's own plan
    zcode_call(conn, "c8", "2026-11-22T07:00:00+00:00", sonnet, 3_000, 50, 1_000, provider=None)
    zcode_call(conn, "c9", "2026-11-22T07:01:00+00:00", None, 3_000, 50)  # no model
    zcode_call(conn, "c10", "2026-11-22T07:02:00+00:00", sonnet, 0, 0)  # empty
    return conn


# ---- Antigravity ----------------------------------------------------------------------------


def _pb_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _pb_number(field: int, value: int) -> bytes:
    return _pb_varint(field << 3) + _pb_varint(value)


def _pb_bytes(field: int, payload: bytes) -> bytes:
    return _pb_varint((field << 3) | 2) + _pb_varint(len(payload)) + payload


def antigravity_response(  # noqa: PLR0917 - a response reads best as (time, tokens)
    when_s: int | None, inp: int, out: int, read: int = 0, write: int = 0, thinking: int = 0,
    response: str | None = None, label: str | None = None,
) -> bytes:  # fmt: skip
    """One ``gen_metadata`` blob as Antigravity writes it (protobuf: the chat model message in
    field 1, its usage in field 4, its label in 19, its generation time in 9.4)."""
    usage = (_pb_number(2, inp) + _pb_number(4, write) + _pb_number(5, read)
             + _pb_number(9, thinking) + _pb_number(10, out)
             + (_pb_bytes(11, response.encode()) if response else b""))  # fmt: skip
    chat = _pb_bytes(4, usage) + (_pb_bytes(19, label.encode()) if label else b"")
    if when_s is not None:
        chat += _pb_bytes(9, _pb_bytes(4, _pb_number(1, when_s) + _pb_number(2, 250_000_000)))
    return _pb_bytes(1, chat)


def antigravity_db(folder: Path, conversation: str, created_s: int | None) -> sqlite3.Connection:
    """A conversation's database in Antigravity's schema (the tables read; ``steps`` empty)."""
    path = folder / "conversations" / f"{conversation}.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE IF NOT EXISTS gen_metadata(idx INTEGER PRIMARY KEY, data BLOB, size INTEGER);"
        "CREATE TABLE IF NOT EXISTS trajectory_metadata_blob(id TEXT, data BLOB);"
        "CREATE TABLE IF NOT EXISTS steps(idx INTEGER PRIMARY KEY, step_type INTEGER,"
        " status INTEGER, metadata BLOB);"
    )
    if created_s is not None:
        created = _pb_bytes(2, _pb_number(1, created_s) + _pb_number(2, 0))
        conn.execute("INSERT INTO trajectory_metadata_blob VALUES ('main', ?)", (created,))
    conn.commit()
    return conn


def antigravity_put(conn: sqlite3.Connection, idx: int, blob: bytes) -> None:
    conn.execute("INSERT OR REPLACE INTO gen_metadata VALUES (?, ?, ?)", (idx, blob, len(blob)))
    conn.commit()


def antigravity_step(  # noqa: PLR0917 - a step reads best as (time, tokens)
    when_s: int | None, inp: int, out: int, read: int = 0, thinking: int = 0,
    response: str | None = None, *, time_field: int = 8,
) -> bytes:  # fmt: skip
    """One ``steps.metadata`` blob of a model call as ccusage 20.0.24 reads it (found by running
    it): the usage message (as in ``gen_metadata``) in field 9, the time in field 8 (or 1)."""
    usage = _pb_number(2, inp) + _pb_number(5, read) + _pb_number(9, thinking) + _pb_number(10, out)
    if response:
        usage += _pb_bytes(11, response.encode())
    when = b"" if when_s is None else _pb_bytes(time_field, _pb_number(1, when_s))
    return _pb_bytes(9, usage) + when


def antigravity_put_step(conn: sqlite3.Connection, idx: int, blob: bytes | None) -> None:
    conn.execute("INSERT OR REPLACE INTO steps VALUES (?, 15, 3, ?)", (idx, blob))
    conn.commit()


def write_antigravity_fixture(folder: Path) -> sqlite3.Connection:
    """An Antigravity data folder with its traps; returns the first conversation (open)."""
    day = int(dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC).timestamp())
    pro, flash = "gemini-2.5-pro", "gemini-2.5-flash"
    one = antigravity_db(folder, "11111111-aaaa", day - 3 * 86400)
    blobs = [
        antigravity_response(day, 12_000, 300, 9_000, 0, 120, "r1", pro),
        antigravity_response(day, 12_000, 300, 9_000, 0, 120, "r1", pro),  # written twice
        antigravity_response(day + 60, 2_000, 80, 0, 500, 0, "r2"),  # no label: keeps pro
        antigravity_response(day + 120, 5_000, 100, response="r3", label=flash),
        antigravity_response(None, 700, 10, response="r4", label=flash),  # no time: created
        antigravity_response(day + 86400, 0, 0, response="r5", label=flash),  # no tokens
        b"\xff\xff",  # not protobuf
        antigravity_response(day + 86400 + 60, 900, 40, 100, response=None, label=flash),
    ]
    for idx, blob in enumerate(blobs):
        antigravity_put(one, idx, blob)
    steps = [
        antigravity_step(day + 121, 4_000, 900, response="r3"),  # r3's step, more output: max
        antigravity_step(day + 600, 2_500, 60, 400, 30, "s1"),  # a call only its step has
        antigravity_step(day + 700, 800, 20, time_field=1),  # no id, the other time field
        antigravity_step(None, 300, 3),  # no time: the conversation's creation time
        _pb_bytes(3, b"a tool call"),  # a step that is no model call
        None,  # no metadata
    ]
    for idx, step in enumerate(steps):
        antigravity_put_step(one, idx, step)
    # a second conversation: a copy of r1 (counted once, in the first; its label stays)
    two = antigravity_db(folder, "22222222-bbbb", day)
    antigravity_put(two, 0, blobs[0])
    antigravity_put(two, 1, antigravity_response(day + 2 * 86400, 3_000, 50, 1_000))
    two.close()
    # a third: no label at all (unknown: $0 in ccusage, unpriced here)
    three = antigravity_db(folder, "33333333-cccc", None)
    antigravity_put(three, 0, antigravity_response(day + 2 * 86400, 600, 6, response="r7"))
    three.close()
    # not a conversation database
    (folder / "conversations" / "notes.txt").write_text("no")
    return one


# ---- generated at scale (benchmarks) ------------------------------------------------------


def _spread(n: int, count: int, end: float) -> float:
    """The n-th of ``count`` times spread over the 10 days before ``end``."""
    return end - 10 * 86400 + n * (10 * 86400 / max(1, count))


def generate_grok_sessions(home: Path, turns: int, *, seed: int = 7) -> None:
    """A Grok home of sessions of 40 turns (streamed message parts between them), a summary
    naming each session's model, over the last 10 days (benchmarks)."""
    import random
    import time

    rng, end = random.Random(seed), time.time()
    for start in range(0, turns, 40):
        session = home / "sessions" / f"%2Fwork%2Fp{start // 40 % 20}" / f"s-{start:08d}"
        session.mkdir(parents=True, exist_ok=True)
        (session / "summary.json").write_text(_compact({"current_model_id": "grok-code-fast-1",
                                                        "info": {"id": session.name}}))  # fmt: skip
        lines = []
        for n in range(start, min(start + 40, turns)):
            at = int(_spread(n, turns, end))
            update = {"sessionUpdate": "agent_message_chunk", "content": {"text": "Done."}}
            chunk = {"timestamp": at - 1, "method": "_x.ai/session_notification",
                     "params": {"_meta": {"eventId": f"c-{n}"}, "update": update}}  # fmt: skip
            lines += [_compact(chunk)] * 3
            inp = rng.randint(2_000, 120_000)
            lines.append(grok_turn(at, f"e{n}", inp, rng.randint(20, 3_000),
                                   inp * 3 // 4, rng.randint(0, 2_000)))  # fmt: skip
        (session / "updates.jsonl").write_text("\n".join(lines) + "\n")


def generate_zcode_db(home: Path, calls: int, *, seed: int = 7) -> None:
    """A ZCode home whose database holds ``calls`` completed calls in 500 sessions over the
    last 10 days (benchmarks)."""
    import random
    import time

    rng, end = random.Random(seed), time.time()
    conn = zcode_db(home)
    conn.execute("PRAGMA synchronous=OFF")  # a generator: nothing here need be durable
    conn.executemany("INSERT INTO session VALUES (?, ?, 2, NULL)",
                     [(f"sess_{s}", f"/work/p{s % 20}") for s in range(500)])  # fmt: skip
    rows = []
    for n in range(calls):
        inp, out = rng.randint(2_000, 120_000), rng.randint(20, 3_000)
        read, write = inp * 3 // 4, rng.randint(0, 2_000)
        rows.append((f"c{n}", f"sess_{n % 500}", "builtin:zai-coding-plan", "claude-sonnet-4-5",
                     "completed", int(_spread(n, calls, end) * 1000), inp, out, 0, write, read,
                     inp + out))  # fmt: skip
    conn.executemany(
        "INSERT INTO model_usage (id, session_id, provider_id, model_id, status, started_at, "
        "duration_ms, input_tokens, output_tokens, reasoning_tokens, "
        "cache_creation_input_tokens, cache_read_input_tokens, computed_total_tokens) "
        "VALUES (?, ?, ?, ?, ?, ?, 900, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.commit()
    conn.close()


def generate_antigravity_conversations(folder: Path, responses: int, *, seed: int = 7) -> None:
    """An Antigravity data folder of conversations of 40 responses each, over the last 10 days
    (benchmarks)."""
    import random
    import time

    rng, end = random.Random(seed), time.time()
    for start in range(0, responses, 40):
        conn = antigravity_db(folder, f"{start:08d}-conv", int(_spread(start, responses, end)))
        blobs = []
        for n in range(start, min(start + 40, responses)):
            inp, when = rng.randint(2_000, 120_000), int(_spread(n, responses, end))
            out, thinking = rng.randint(20, 3_000), rng.randint(0, 500)
            blob = antigravity_response(when, inp, out, inp * 3 // 4, 0, thinking, f"resp-{n}",
                                        "gemini-2.5-pro")  # fmt: skip
            blobs.append((n - start, blob, len(blob)))
        conn.executemany("INSERT INTO gen_metadata VALUES (?, ?, ?)", blobs)
        conn.commit()
        conn.close()
