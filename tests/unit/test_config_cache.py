"""config.toml's parsed form is kept in burntray's cache folder (``config_cache``): a short
command whose config.toml has not changed does not load tomllib, an edit is always read, and a
cache that is broken or not burntray's is passed over."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from burntray.config import load_config
from burntray.config_cache import CACHE_NAME
from burntray.errors import ConfigError


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = Path(os.environ["BURNTRAY_HOME"]) / "config" / "config.toml"
    path.parent.mkdir(parents=True)
    return path


def _status(names: str) -> tuple[str, list[object]]:
    """``status --format tmux`` in a fresh interpreter: its line, and ``names`` after it."""
    code = (
        "import sys\n"
        "from burntray.cli import main\n"
        "code = main(['status', '--format', 'tmux'])\n"
        "sys.stdout.flush()\n"
        f"print(repr([code, {names}]), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    return done.stdout, ast.literal_eval(done.stderr.strip().splitlines()[-1])


def test_an_unchanged_config_is_not_parsed_again(config: Path) -> None:
    """The first run parses config.toml and keeps it; the next one, in a new process, answers
    with the same settings (its window is in the line) without loading tomllib."""
    config.write_text('window = "15m"\n[alerts]\nfloor_usd = 0.5\n')
    out, (code, parsed) = _status("'tomllib' in sys.modules")
    assert code == 0 and "@15m" in out and parsed is True, out
    out, (code, parsed) = _status("'tomllib' in sys.modules")
    assert code == 0 and "@15m" in out, out
    assert parsed is False


def test_an_edit_is_read_even_at_the_same_size_and_time(config: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache" / CACHE_NAME
    config.write_text('window = "15m"\n')
    stat = config.stat()
    assert load_config(config, cache)[0].window == "15m" and cache.is_file()
    config.write_text('window = "30m"\n')
    os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert load_config(config, cache)[0].window == "30m"
    assert load_config(config, cache)[0].window == "30m"  # now from the cache


@pytest.mark.parametrize(
    "broken",
    [b"", b"not json", b'{"format": "burntray config cache 1", "text": 1}', b"[1, 2]"],
)
def test_a_broken_cache_is_passed_over_and_rewritten(
    config: Path, tmp_path: Path, broken: bytes
) -> None:
    cache = tmp_path / "cache" / CACHE_NAME
    cache.parent.mkdir()
    cache.write_bytes(broken)
    config.write_text('window = "2h"\n')
    assert load_config(config, cache)[0].window == "2h"
    assert b'"2h' in cache.read_bytes()


def test_a_cache_that_is_not_a_file_stops_nothing(config: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache" / CACHE_NAME
    cache.mkdir(parents=True)  # a folder where the cache goes: read and write both fail
    config.write_text('window = "2h"\n')
    assert load_config(config, cache)[0].window == "2h"
    assert cache.is_dir()


def test_a_value_json_cannot_hold_is_read_from_the_file_each_time(
    config: Path, tmp_path: Path
) -> None:
    """A TOML date (no burntray key takes one: it is named as unknown) is not kept."""
    cache = tmp_path / "cache" / CACHE_NAME
    config.write_text('window = "2h"\n[extra]\nwhen = 1979-05-27\n')
    settings, problems = load_config(config, cache)
    assert settings.window == "2h" and any("extra.when" in p for p in problems)
    assert not cache.exists()


def test_a_file_that_is_not_toml_is_still_refused(config: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache" / CACHE_NAME
    config.write_text('window = "2h"\n')
    load_config(config, cache)
    config.write_text("window = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(config, cache)
    config.write_bytes(b'window = "\xff"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(config, cache)


def test_a_config_with_a_token_is_not_copied_into_the_cache(config: Path, tmp_path: Path) -> None:
    """A secret stays in config.toml alone: such a file is parsed each time instead."""
    cache = tmp_path / "cache" / CACHE_NAME
    config.write_text('window = "2h"\n[serve]\ntoken = "s3cret-value"\n')
    assert load_config(config, cache)[0].serve_token == "s3cret-value"
    assert not cache.exists()
