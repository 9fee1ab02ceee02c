"""Writer processes for the roder, ctm and yoi stores, following each upstream's exact schema and
write pattern, so burntray is tested against what those tools really leave on disk.

- roder (``roder-usage-analytics``): its v1 migration verbatim, WAL + ``synchronous NORMAL``,
  and its upserts (``upsert_turn``, ``upsert_token_usage``) with their ON CONFLICT clauses. A
  turn's usage is written only from the terminal event, with NULL provider/model in
  ``token_usage`` (they live in ``turns``); all-zero usage is skipped, as roder does.
- ctm (v0.1.21 cost store): its schema DDL verbatim (including the FTS5 trigram table), WAL +
  NORMAL + busy_timeout 5000, one row per changed statusline update with session-cumulative
  input/output, per-turn cache and ``ComputeCostMicros``; all-zero updates skipped.
- yoi: session segment logs and the workspace memory usage log, one ``O_APPEND`` write per text
  and another for the newline (as an unbuffered ``writeln!`` may do), so concurrent appenders
  can interleave and a reader can see a torn last line.

Run as a process: ``python -m tests.store_writers KIND PATH`` reads one JSON command per line on
stdin and answers ``ok`` (or ``error: ...``) per command on stdout, so a test drives a real
writer and knows exactly when each write is committed. ``{"op": "hold"}`` takes the write lock
(BEGIN IMMEDIATE) and keeps it until ``{"op": "release"}``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

# roder: crates/roder-usage-analytics/src/schema.rs, migration v1 (verbatim).
RODER_SCHEMA_V1 = """
CREATE TABLE sessions (
    thread_id TEXT PRIMARY KEY,
    workspace_key TEXT,
    workspace_label TEXT,
    provider TEXT,
    model TEXT,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
CREATE INDEX idx_sessions_workspace ON sessions(workspace_key);

CREATE TABLE turns (
    thread_id TEXT NOT NULL,
    turn_id TEXT NOT NULL,
    provider TEXT,
    model TEXT,
    runtime_profile TEXT,
    started_at_ms INTEGER,
    completed_at_ms INTEGER,
    status TEXT NOT NULL,
    error_kind TEXT,
    PRIMARY KEY (thread_id, turn_id)
);
CREATE INDEX idx_turns_started ON turns(started_at_ms);
CREATE INDEX idx_turns_provider_model ON turns(provider, model);

CREATE TABLE token_usage (
    thread_id TEXT NOT NULL,
    turn_id TEXT NOT NULL,
    provider TEXT,
    model TEXT,
    recorded_at_ms INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    total_tokens INTEGER NOT NULL,
    cached_prompt_tokens INTEGER NOT NULL,
    PRIMARY KEY (thread_id, turn_id)
);
CREATE INDEX idx_token_usage_recorded ON token_usage(recorded_at_ms);
CREATE INDEX idx_token_usage_provider_model ON token_usage(provider, model);

CREATE TABLE tool_calls (
    thread_id TEXT NOT NULL,
    turn_id TEXT NOT NULL,
    tool_id TEXT NOT NULL,
    tool_name TEXT,
    started_at_ms INTEGER,
    completed_at_ms INTEGER,
    duration_ms INTEGER,
    status TEXT NOT NULL,
    is_error INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (thread_id, turn_id, tool_id)
);
CREATE INDEX idx_tool_calls_name ON tool_calls(tool_name);
CREATE INDEX idx_tool_calls_started ON tool_calls(started_at_ms);
CREATE INDEX idx_tool_calls_duration ON tool_calls(duration_ms);

CREATE TABLE ingested_event_offsets (
    source_path TEXT PRIMARY KEY,
    last_line INTEGER NOT NULL,
    source_mtime_ms INTEGER,
    updated_at_ms INTEGER NOT NULL
);

CREATE TABLE daily_rollups (
    day TEXT NOT NULL,
    workspace_key TEXT NOT NULL DEFAULT '',
    provider TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    tool_name TEXT NOT NULL DEFAULT '',
    call_count INTEGER NOT NULL DEFAULT 0,
    error_count INTEGER NOT NULL DEFAULT 0,
    total_duration_ms INTEGER NOT NULL DEFAULT 0,
    p50_duration_ms INTEGER,
    p95_duration_ms INTEGER,
    p99_duration_ms INTEGER,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    total_tokens INTEGER NOT NULL DEFAULT 0,
    cached_prompt_tokens INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, workspace_key, provider, model, tool_name)
);
CREATE INDEX idx_daily_rollups_day ON daily_rollups(day);
"""

RODER_UPSERT_TURN = """
INSERT INTO turns (thread_id, turn_id, provider, model, runtime_profile,
 started_at_ms, completed_at_ms, status, error_kind)
 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
 ON CONFLICT(thread_id, turn_id) DO UPDATE SET
   provider = COALESCE(excluded.provider, turns.provider),
   model = COALESCE(excluded.model, turns.model),
   runtime_profile = COALESCE(excluded.runtime_profile, turns.runtime_profile),
   started_at_ms = COALESCE(turns.started_at_ms, excluded.started_at_ms),
   completed_at_ms = COALESCE(excluded.completed_at_ms, turns.completed_at_ms),
   status = CASE
     WHEN turns.status IN ('completed', 'failed') AND excluded.status = 'running'
       THEN turns.status
     ELSE excluded.status
   END,
   error_kind = COALESCE(excluded.error_kind, turns.error_kind)
"""

RODER_UPSERT_USAGE = """
INSERT INTO token_usage (thread_id, turn_id, provider, model, recorded_at_ms,
 prompt_tokens, completion_tokens, total_tokens, cached_prompt_tokens)
 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
 ON CONFLICT(thread_id, turn_id) DO UPDATE SET
   provider = COALESCE(excluded.provider, token_usage.provider),
   model = COALESCE(excluded.model, token_usage.model),
   recorded_at_ms = excluded.recorded_at_ms,
   prompt_tokens = excluded.prompt_tokens,
   completion_tokens = excluded.completion_tokens,
   total_tokens = excluded.total_tokens,
   cached_prompt_tokens = excluded.cached_prompt_tokens
"""

# roder's `stats tokens --group model` (query.rs token_summaries, TokenGroup::Model), with the
# since/until filter; the parity oracle. LIMIT is roder's MAX_LIMIT.
RODER_TOKENS_BY_MODEL = """
SELECT COALESCE(tu.model, '(unknown)') AS grp,
       SUM(token_usage.prompt_tokens),
       SUM(token_usage.completion_tokens),
       SUM(token_usage.total_tokens),
       SUM(token_usage.cached_prompt_tokens),
       COUNT(*)
FROM token_usage
LEFT JOIN turns tu ON tu.thread_id = token_usage.thread_id
                  AND tu.turn_id = token_usage.turn_id
LEFT JOIN sessions s ON s.thread_id = token_usage.thread_id
WHERE 1=1 AND token_usage.recorded_at_ms >= ? AND token_usage.recorded_at_ms < ?
GROUP BY grp
ORDER BY SUM(token_usage.total_tokens) DESC
LIMIT 1000
"""

# ctm v0.1.21: internal/serve/store/cost_store.go schemaSQL (verbatim).
CTM_SCHEMA = """
CREATE TABLE IF NOT EXISTS cost_points(
  ts              INTEGER NOT NULL, -- unix millis
  session         TEXT NOT NULL,
  input_tokens    INTEGER NOT NULL,
  output_tokens   INTEGER NOT NULL,
  cache_tokens    INTEGER NOT NULL,
  cost_usd_micros INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS cost_points_session_ts ON cost_points(session, ts);
CREATE TABLE IF NOT EXISTS schema_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO schema_meta(key, value) VALUES('version', '2');
CREATE VIRTUAL TABLE IF NOT EXISTS tool_calls_fts USING fts5(
  session, ts UNINDEXED, tool UNINDEXED, content,
  tokenize = 'trigram'
);
"""

# ctm's Totals(since): latest row per session (MAX(ts) join), summed. The all-time oracle.
CTM_TOTALS = """
WITH latest AS (
  SELECT cp.session, cp.input_tokens, cp.output_tokens, cp.cache_tokens, cp.cost_usd_micros
  FROM cost_points cp
  JOIN (
    SELECT session, MAX(ts) AS max_ts FROM cost_points WHERE ts >= ? GROUP BY session
  ) m ON m.session = cp.session AND m.max_ts = cp.ts
)
SELECT COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),
       COALESCE(SUM(cache_tokens), 0), COALESCE(SUM(cost_usd_micros), 0)
FROM latest
"""


def ctm_cost_micros(input_tokens: int, output_tokens: int, cache_tokens: int) -> int:
    """ctm's ComputeCostMicros (Go int64 division truncates; the inputs are never negative)."""
    return (input_tokens * 3_000_000 + output_tokens * 15_000_000 + cache_tokens * 300_000) // (
        1_000_000
    )


def roder_open(path: Path, exclusive: bool = False) -> sqlite3.Connection:
    """roder's AnalyticsStore::open: mkdir -p, WAL, synchronous NORMAL, migrations.
    ``exclusive``: ``locking_mode=EXCLUSIVE`` first, so the WAL index stays in this process's
    memory and no ``-shm`` is made (a writer configured that way)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    if exclusive:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS analytics_schema_migrations ("
        " version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)"
    )
    (applied,) = conn.execute(
        "SELECT COALESCE(MAX(version), 0) FROM analytics_schema_migrations"
    ).fetchone()
    if applied < 1:
        conn.executescript(RODER_SCHEMA_V1)
        conn.execute(
            "INSERT INTO analytics_schema_migrations (version, applied_at_ms) VALUES (1, ?)",
            (int(time.time() * 1000),),
        )
    return conn


def roder_turn(conn: sqlite3.Connection, cmd: dict[str, Any]) -> None:
    """One turn as roder's ingestor writes it: TurnStarted, InferenceStarted (provider/model,
    unless absent), then the terminal TurnCompleted/TurnFailed with its turn-total usage. Each
    upsert is its own autocommit statement, as rusqlite's ``execute`` does."""
    thread, turn = cmd["thread"], cmd["turn"]
    started = cmd.get("started_ms", cmd["recorded_ms"] - 100)
    conn.execute(
        RODER_UPSERT_TURN, (thread, turn, None, None, "default", started, None, "running", None)
    )
    if cmd.get("model") is not None or cmd.get("provider") is not None:
        conn.execute(
            RODER_UPSERT_TURN,
            (
                thread,
                turn,
                cmd.get("provider"),
                cmd.get("model"),
                None,
                started,
                None,
                "running",
                None,
            ),
        )
    status = cmd.get("status", "completed")
    conn.execute(
        RODER_UPSERT_TURN,
        (
            thread,
            turn,
            None,
            None,
            None,
            None,
            cmd["recorded_ms"],
            status,
            cmd.get("error_kind", "provider") if status == "failed" else None,
        ),
    )
    usage = cmd.get("usage")
    if usage is None:
        return
    prompt, completion, cached = usage["prompt"], usage["completion"], usage.get("cached", 0)
    total = usage.get("total", prompt + completion)
    if total == 0 and prompt == 0 and completion == 0:
        return  # roder's record_usage skips empty usage
    conn.execute(
        RODER_UPSERT_USAGE,
        (thread, turn, None, None, cmd["recorded_ms"], prompt, completion, total, cached),
    )


def ctm_open(path: Path, exclusive: bool = False) -> sqlite3.Connection:
    """ctm's OpenCostStore: WAL, NORMAL, busy_timeout 5000, schema, FTS wiped on boot
    (``exclusive``: ``locking_mode=EXCLUSIVE`` first, as in ``roder_open``)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    conn = sqlite3.connect(path, isolation_level=None, timeout=5.0)
    if exclusive:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(CTM_SCHEMA)
    conn.execute("DELETE FROM tool_calls_fts")
    return conn


def ctm_insert(conn: sqlite3.Connection, cmd: dict[str, Any]) -> None:
    """One quota_update for a named session, as SubscribeQuotaWriter persists it."""
    inp, out, cache = cmd["input"], cmd["output"], cmd.get("cache", 0)
    if inp == 0 and out == 0 and cache == 0:
        return
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO cost_points(ts, session, input_tokens, output_tokens, cache_tokens,"
        " cost_usd_micros) VALUES(?, ?, ?, ?, ?, ?)",
        (cmd["ts_ms"], cmd["session"], inp, out, cache, ctm_cost_micros(inp, out, cache)),
    )
    conn.execute("COMMIT")


def yoi_append(path: Path, obj: Any, *, raw: str | None = None, newline: bool = True) -> None:
    """One line appended the way yoi does: ``O_APPEND``, the text and the newline as two writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = raw if raw is not None else json.dumps(obj, separators=(",", ":"))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, text.encode())
        if newline:
            os.write(fd, b"\n")
    finally:
        os.close(fd)


def _serve(kind: str, path: Path) -> None:
    conn: sqlite3.Connection | None = None
    if kind in ("roder", "roder-exclusive"):
        conn = roder_open(path, exclusive=kind == "roder-exclusive")
    elif kind in ("ctm", "ctm-exclusive"):
        conn = ctm_open(path, exclusive=kind == "ctm-exclusive")
    elif kind == "plain":  # a rollback-journal database, for lock tests
        conn = sqlite3.connect(path, isolation_level=None)
    print("ready", flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        op = cmd["op"]
        try:
            if op == "hold":
                assert conn is not None
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "INSERT INTO token_usage VALUES ('held','held',NULL,NULL,0,1,1,2,0)"
                    if kind == "roder"
                    else "INSERT INTO cost_points VALUES (0,'held',1,1,0,18)"
                )
            elif op == "release":
                assert conn is not None
                conn.execute("ROLLBACK")
            elif op == "turn":
                assert conn is not None
                roder_turn(conn, cmd)
            elif op == "point":
                assert conn is not None
                ctm_insert(conn, cmd)
            elif op == "append":
                yoi_append(
                    Path(cmd.get("file", path)),
                    cmd.get("obj"),
                    raw=cmd.get("raw"),
                    newline=cmd.get("newline", True),
                )
            elif op == "turns":  # many turns, each committed on its own, as fast as it can
                assert conn is not None
                for one in cmd["turns"]:
                    roder_turn(conn, one)
            elif op == "points":
                assert conn is not None
                for one in cmd["points"]:
                    ctm_insert(conn, one)
            elif op == "burst":  # many lines as fast as possible (to race other appenders)
                for obj in cmd["objs"]:
                    yoi_append(Path(cmd.get("file", path)), obj)
            elif op == "sql":
                assert conn is not None
                conn.execute(cmd["sql"], cmd.get("args", []))
            elif op == "close":
                if conn is not None:
                    conn.close()
                print("ok", flush=True)
                return
            else:
                raise ValueError(f"unknown op {op!r}")
        except Exception as exc:
            print(f"error: {exc}", flush=True)
            continue
        print("ok", flush=True)


if __name__ == "__main__":
    _serve(sys.argv[1], Path(sys.argv[2]))


RODER_MODELS = (
    ("anthropic", "claude-sonnet-4-5"),
    ("openai", "gpt-4.1-mini"),
    ("anthropic", "claude-opus-4-1"),
    ("openai", "gpt-5"),
    ("ollama", "qwen3:8b"),
    ("mystery", "model-nobody-prices"),
)


def roder_bulk(path: Path, rows: int, end_ms: int, span_ms: int, seed: int = 7) -> None:
    """``rows`` terminal turns spread evenly over [end - span, end), written with roder's own
    upserts in large transactions (how a backfill writes), for the benchmark."""
    import random

    rng = random.Random(seed)
    conn = roder_open(path)
    batch = 20_000
    for start in range(0, rows, batch):
        turns, usage = [], []
        for i in range(start, min(rows, start + batch)):
            provider, model = RODER_MODELS[i % len(RODER_MODELS)]
            recorded = end_ms - span_ms + (i * span_ms) // rows
            thread, turn = f"t{i // 40}", f"u{i}"
            turns.append(
                (
                    thread,
                    turn,
                    provider,
                    model,
                    "default",
                    recorded - 900,
                    recorded,
                    "completed",
                    None,
                )
            )
            prompt = rng.randrange(100, 60_000)
            completion = rng.randrange(10, 4_000)
            usage.append(
                (
                    thread,
                    turn,
                    None,
                    None,
                    recorded,
                    prompt,
                    completion,
                    prompt + completion,
                    rng.randrange(0, prompt),
                )
            )
        conn.execute("BEGIN")
        conn.executemany(RODER_UPSERT_TURN, turns)
        conn.executemany(RODER_UPSERT_USAGE, usage)
        conn.execute("COMMIT")
    conn.close()


class WriterProcess:
    """A writer process (see the module docstring) driven one command at a time."""

    def __init__(self, kind: str, path: Path) -> None:
        import subprocess

        from tests.processes import read_line

        self._read_line = read_line
        root = Path(__file__).resolve().parents[1]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.store_writers", kind, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=root,
            env=env,
        )
        assert self.proc.stdout is not None
        line = read_line(self.proc.stdout, 20, f"{kind} writer start")
        assert line == "ready", line

    def send(self, **cmd: Any) -> None:
        """Send one command; return once the writer has done (and committed) it."""
        self.start(**cmd)
        self.wait(cmd["op"])

    def start(self, **cmd: Any) -> None:
        """Send one command without waiting (``wait`` collects the answer)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def wait(self, what: str = "command") -> None:
        assert self.proc.stdout is not None
        answer = self._read_line(self.proc.stdout, 60, f"writer answer to {what}")
        if answer != "ok":
            raise AssertionError(f"writer failed {what}: {answer}")

    def close(self) -> None:
        from tests.processes import stop_process

        if self.proc.poll() is None:
            try:
                self.send(op="close")
                self.proc.wait(10)
            except (AssertionError, OSError, ValueError):
                pass
        stop_process(self.proc)

    def __enter__(self) -> WriterProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
