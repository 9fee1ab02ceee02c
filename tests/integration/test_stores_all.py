"""roder, ctm and yoi through the command line, alone and together: `all` sums exactly what each
reports alone, and a broken store shows its problem without zeroing the others or being
touched."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import time
from pathlib import Path

import pytest

from burntray.cli import main as cli_main
from tests.store_writers import WriterProcess, yoi_append

NAMES = ("roder", "ctm", "yoi")


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli_main(list(args))
    return code, out.getvalue()


def status(name: str) -> dict:  # type: ignore[type-arg]
    code, out = run_cli("status", "--source", name, "--format", "json")
    assert code in (0, 1), out
    return json.loads(out)  # type: ignore[no-any-return]


@pytest.fixture
def stores(isolated_env: Path) -> dict[str, Path]:
    """All three stores under the test's HOME, at the upstreams' own default places."""
    home = isolated_env / "home"
    now = int(time.time() * 1000)
    roder = home / ".roder" / "analytics" / "usage.sqlite3"
    with WriterProcess("roder", roder) as writer:
        for i, model in enumerate(("claude-sonnet-4-5", "gpt-4.1-mini", "unknown-x")):
            writer.send(
                op="turn",
                thread="t",
                turn=f"u{i}",
                recorded_ms=now - 1000 * (i + 1),
                provider="anthropic" if i == 0 else "openai",
                model=model,
                usage={"prompt": 5000 + i, "completion": 300, "cached": 1000},
            )
    ctm = home / ".config" / "ctm" / "ctm.db"
    with WriterProcess("ctm", ctm) as writer:
        writer.send(op="point", ts_ms=now - 5000, session="a", input=100, output=10)
        writer.send(op="point", ts_ms=now - 4000, session="a", input=900, output=90, cache=5)
    seg = isolated_env / "xdg-data" / "yoi" / "sessions" / "s" / "seg.jsonl"
    yoi_append(seg, {"kind": "session_start", "ts": now, "config": {"model": "gpt-4.1"}})
    yoi_append(
        seg,
        {
            "kind": "llm_usage",
            "ts": now - 2000,
            "history_len": 1,
            "input_total_tokens": 2000,
            "cache_read_tokens": 500,
            "cache_write_tokens": 100,
            "output_tokens": 70,
        },
    )
    return {"roder": roder, "ctm": ctm, "yoi": seg}


def test_all_sums_what_each_reports_alone(stores: dict[str, Path]) -> None:
    alone = {name: status(name) for name in NAMES}
    assert [alone[n]["totals"]["reqs"] for n in NAMES] == [3, 2, 1]
    both = status("all")
    rows = {r["source"]: r for r in both["by_source"]}
    assert set(rows) == set(NAMES)  # hexai and cburn are absent: left out silently
    for field in ("reqs", "tokens", "unpriced_reqs", "input_tokens", "output_tokens"):
        assert both["totals"][field] == sum(alone[n]["totals"][field] for n in NAMES), field
    assert both["totals"]["cost_usd"] == pytest.approx(
        sum(alone[n]["totals"]["cost_usd"] for n in NAMES)
    )
    for name in NAMES:
        assert rows[name]["reqs"] == alone[name]["totals"]["reqs"]
        assert rows[name]["cost_usd"] == pytest.approx(alone[name]["totals"]["cost_usd"])
    assert alone["roder"]["totals"]["unpriced_reqs"] == 1  # an unknown model: unpriced
    assert alone["ctm"]["totals"]["cache_read_tokens"] is None  # ctm's cache is per turn
    assert any("Sonnet 4.5" in f["value"] for f in alone["ctm"]["facts"])


def folder_sums(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(folder.iterdir())
    }


@pytest.mark.parametrize("broken", ["roder", "ctm"])
@pytest.mark.parametrize("how", ["corrupt", "directory", "no_table"])
def test_a_broken_store_does_not_zero_the_others(
    stores: dict[str, Path], broken: str, how: str
) -> None:
    good = {n: status(n)["totals"]["reqs"] for n in NAMES if n != broken}
    path = stores[broken]
    path.unlink()
    if how == "corrupt":
        path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 16)
    elif how == "directory":
        path.mkdir()
    else:
        import sqlite3

        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE unrelated (x)")
        conn.commit()
        conn.close()
    before = folder_sums(path.parent)
    doc = status("all")
    rows = {r["source"]: r for r in doc["by_source"]}
    assert rows[broken]["state"] == "error"
    assert str(path) in rows[broken]["detail"]
    assert doc["status"]["partial"] is True
    for name, reqs in good.items():
        assert rows[name]["state"] == "ok" and rows[name]["reqs"] == reqs
    assert doc["totals"]["reqs"] == sum(good.values())
    code, out = run_cli("status", "--source", broken)
    assert code != 0 and "Traceback" not in out
    assert folder_sums(path.parent) == before  # nothing written, created or removed
