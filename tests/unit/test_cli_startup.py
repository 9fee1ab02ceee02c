"""What a short command loads: tmux runs ``burntray status --format tmux`` every few seconds,
so modules it does not use stay unimported (the time itself is a benchmark, bench_core)."""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from burntray.cli import SUBCOMMANDS, _command_in, build_parser, terminal_columns


@pytest.mark.parametrize("columns", [None, "57", "0", "wide", "-3"])
def test_terminal_columns_is_shutils_answer(
    columns: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert terminal_columns() == shutil.get_terminal_size().columns


@pytest.mark.parametrize("columns", ["44", "80", "131"])
def test_help_is_what_argparse_formats(columns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every parser's help, wrapped at $COLUMNS, is argparse's stock formatter's text."""
    monkeypatch.setenv("COLUMNS", columns)
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    parsers = [parser, *subparsers.choices.values()]
    assert len(parsers) > 5
    for one in parsers:
        ours = one.format_help()
        one.formatter_class = argparse.HelpFormatter
        assert ours == one.format_help()


def test_every_subcommand_is_listed_for_the_one_command_parser() -> None:
    """``main`` builds only the named subcommand's parser: ``SUBCOMMANDS`` must name every one
    the full parser has, in its order."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert tuple(subparsers.choices) == SUBCOMMANDS


@pytest.mark.parametrize(
    "argv",
    [
        ["status", "--format", "tmux"],
        ["status", "--form", "json", "--source", "hexai", "--window", "7d", "--by", "day"],
        ["-v", "run", "--terminal"],
        ["--terminal", "demo"],
        ["clear-cache", "--hexai", "--yes"],
        ["doctor"],
        ["report", "--format", "csv", "--out", "x.csv", "--open"],
        ["serve", "--otlp", "127.0.0.1:4318", "--metrics", "127.0.0.1:9464"],
        ["autostart", "status"],
        ["statusline", "--show", "model,today", "--color", "never"],
        ["statusline", "install", "--command", "burntray statusline"],
    ],
)
def test_the_one_command_parser_reads_what_the_full_one_reads(argv: list[str]) -> None:
    assert _command_in(argv) == next(a for a in argv if not a.startswith("-"))
    assert build_parser(_command_in(argv)).parse_args(argv) == build_parser().parse_args(argv)


@pytest.mark.parametrize("argv", [[], ["-v"], ["statu"], ["--", "status"], ["--help"]])
def test_no_plain_command_builds_every_parser(argv: list[str]) -> None:
    """No command, a mistyped one or one after ``--``: the full parser answers (its help and
    its error list every command)."""
    assert _command_in(argv) is None


@pytest.mark.parametrize(
    "argv", [["status", "--bogus"], ["status", "--source", "nope"], ["autostart", "maybe"]]
)
def test_errors_read_the_same_from_the_one_command_parser(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    errors = []
    for parser in (build_parser(_command_in(argv)), build_parser()):
        with pytest.raises(SystemExit) as exited:
            parser.parse_args(argv)
        assert exited.value.code == 2
        errors.append(capsys.readouterr().err)
    assert "error:" in errors[0]
    assert errors[0] == errors[1]


def test_status_tmux_loads_only_what_it_uses() -> None:
    """The whole command in a fresh interpreter (the isolated home: no config, no caches, no
    history): its line is printed, and neither the history's sqlite3, a TOML parser,
    importlib.resources, shutil, the idna codec and the socket module (cburn's probe uses the C
    module), logging (nothing was logged), json (no source priced anything, so the shipped price
    snapshot was not parsed), threading (the progress line is for terminals), the plan windows'
    code (there are none), nor dataclasses was imported for it: the value classes are msgspec
    Structs, made in C (a dataclass compiled its methods at import, ~0.8 ms each). msgspec
    itself loads datetime (for its C API), but not typing_extensions with inspect, ast and dis
    (``burntray.cli`` imports it with typing's helpers)."""
    code = (  # the report is printed with repr, not json: json is one of the modules looked for
        "import sys\n"
        "from burntray.cli import main\n"
        "code = main(['status', '--format', 'tmux'])\n"
        "sys.stdout.flush()\n"
        "names = ('sqlite3', 'tomllib', 'importlib.resources', 'shutil',\n"
        "         'burntray.store.history', 'encodings.idna', 'dataclasses',\n"
        "         'socket', 'selectors',\n"
        "         'logging', 'traceback', 'json', 'threading', 'burntray.model.progress',\n"
        "         'burntray.model.limits', 'typing_extensions', 'inspect', 'ast', 'dis')\n"
        "print(repr([code, [n for n in names if n in sys.modules]]), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    code_and_loaded = ast.literal_eval(done.stderr.strip().splitlines()[-1])
    assert "rpm" in done.stdout, done.stdout + done.stderr
    assert code_and_loaded[1] == []


def test_settings_with_a_source_chosen_load_no_receiver() -> None:
    """``status --source claude --window 7d`` validates every key (``otel.listen`` too): the
    OTLP receiver's module, protobuf and http.server stay unloaded."""
    code = (
        "import sys, json\n"
        "from burntray.config import Settings\n"
        "settings = Settings().replace(source='claude', window='7d')\n"
        "assert settings.option('otel.listen') == '127.0.0.1:4318'\n"
        "names = ('burntray.sources.otel.source', 'burntray.io.http_server', 'google.protobuf',\n"
        "         'http.server')\n"
        "print(json.dumps([n for n in names if n in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stdout) == []


def test_a_warning_of_a_short_command_still_goes_to_stderr(tmp_path: Path) -> None:
    """Console logging waits for the first message (see ``burntray.lazylog``): a price file that
    cannot be used is still reported on stderr as ``burntray: ...``, once, with exit code 2."""
    config = tmp_path / "burntray" / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    missing = tmp_path / "missing.json"
    config.write_text(f'[pricing]\nlitellm_file = "{missing}"\n')
    code = (
        "import sys\n"
        "from burntray.cli import main\n"
        "code = main(['status', '--format', 'tmux'])\n"
        "print('logging' in sys.modules, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert lines == [
        f"burntray: pricing.litellm_file: {missing}: does not exist; "
        "using the built-in prices instead",
        "True",
    ]


def test_a_command_loads_only_its_own_module() -> None:
    """``cli/`` is one module per command; ``status`` imports its own and none of the others
    (each of those pulls its own dependencies, e.g. serve's HTTP server)."""
    code = (
        "import sys\n"
        "from burntray.cli import main\n"
        "main(['status', '--format', 'tmux'])\n"
        "sys.stdout.flush()\n"
        "print(repr(sorted(n for n in sys.modules if n.startswith('burntray.cli.'))),"
        " file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = ast.literal_eval(done.stderr.strip().splitlines()[-1])
    # a plain line is read without argparse: the parser module is not loaded either
    assert loaded == ["burntray.cli.common", "burntray.cli.quickargs", "burntray.cli.status"]


def test_every_command_is_its_own_module_of_at_most_400_lines() -> None:
    import burntray.cli
    from burntray.cli.quickargs import COMMAND_MODULES

    folder = Path(burntray.cli.__file__).parent
    shared = ("__init__", "common", "parser", "quickargs")
    assert sorted({*COMMAND_MODULES.values(), "selftest"}) == sorted(
        p.stem for p in folder.glob("*.py") if p.stem not in shared
    )
    lengths = {p.name: len(p.read_text().splitlines()) for p in folder.glob("*.py")}
    assert max(lengths.values()) <= 400, lengths


_XDG = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")


@pytest.mark.skipif(sys.platform != "linux", reason="the plain XDG rule is Linux's")
@pytest.mark.parametrize(
    "home, xdg",
    [
        ("{tmp}/home", {}),
        ("{tmp}/home/", {}),
        ("/", {}),
        ("{tmp}/home", {v: "" for v in _XDG}),
        ("{tmp}/home", {v: f"{{tmp}}/{v.lower()}" for v in _XDG}),
        ("{tmp}/home", {"XDG_CONFIG_HOME": "{tmp}/c/", "XDG_STATE_HOME": "{tmp}/s dir "}),
        ("{tmp}/home", {"XDG_DATA_HOME": "relative/data", "XDG_CACHE_HOME": "/abs"}),
        ("{tmp}/home", {"XDG_CONFIG_HOME": "   ", "XDG_STATE_HOME": "~/state"}),
        ("{tmp}/home", {"XDG_CACHE_HOME": " /leading-space"}),
        ("relative-home", {}),
        (None, {"XDG_CONFIG_HOME": "{tmp}/c"}),
    ],
)
def test_burntrays_own_dirs_are_platformdirs_answer(
    home: str | None, xdg: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without BURNTRAY_HOME the dirs are the real platformdirs' (config, data, cache, log),
    whether computed in the plain case without importing it or asked of it otherwise."""
    import platformdirs

    from burntray.paths import APP_NAME, app_paths

    monkeypatch.delenv("BURNTRAY_HOME")
    for var in _XDG:
        monkeypatch.delenv(var, raising=False)
    for var, value in xdg.items():
        monkeypatch.setenv(var, value.format(tmp=tmp_path))
    if home is None:
        monkeypatch.delenv("HOME")
    else:
        monkeypatch.setenv("HOME", home.format(tmp=tmp_path))
    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    expected = (dirs.user_config_dir, dirs.user_data_dir, dirs.user_cache_dir, dirs.user_log_dir)
    paths = app_paths()
    assert (paths.config_dir, paths.data_dir, paths.cache_dir, paths.log_dir) == tuple(
        Path(d) for d in expected
    )


@pytest.mark.skipif(sys.platform != "linux", reason="the plain XDG rule is Linux's")
@pytest.mark.parametrize("fmt", ["tmux", "json"])
def test_a_short_command_in_a_real_home_loads_no_platformdirs(fmt: str, tmp_path: Path) -> None:
    """As tmux runs it on a desktop (no BURNTRAY_HOME, no XDG variables): the dirs come from
    the XDG rule without platformdirs and its tempfile, shutil and random, and the command still
    finds its config in ~/.config/burntray (a window set there shows in the JSON)."""
    env = {k: v for k, v in os.environ.items() if k != "BURNTRAY_HOME" and not k.startswith("XDG_")}
    config = tmp_path / "home" / ".config" / "burntray" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('window = "15m"\n')
    code = (
        "import sys\n"
        "from burntray.cli import main\n"
        f"code = main(['status', '--format', {fmt!r}])\n"
        "sys.stdout.flush()\n"
        "names = ('platformdirs', 'tempfile', 'shutil', 'random')\n"
        "print(repr([code, [n for n in names if n in sys.modules]]), file=sys.stderr)\n"
    )
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    code_and_loaded = ast.literal_eval(done.stderr.strip().splitlines()[-1])
    assert code_and_loaded[1] == [], done.stderr
    if fmt == "json":
        assert json.loads(done.stdout)["window"] == "15m", done.stdout
    else:
        assert "rpm" in done.stdout, done.stdout + done.stderr


def test_a_warm_status_line_loads_no_process_pool(tmp_path: Path) -> None:
    """``burntray statusline`` after a first run, with one new line in the session's log: the
    line has the new request's cost, and neither the first scan's process pool
    (multiprocessing, concurrent.futures, with their logging, sockets and pickle) nor
    tempfile was loaded for it."""
    import time as clock

    from tests.agent_logs_support import claude_line

    config = tmp_path / "claude"
    log = config / "projects" / "-work-p" / "s1.jsonl"
    log.parent.mkdir(parents=True)

    def line(n: int) -> str:
        at = clock.strftime("%Y-%m-%dT%H:%M:%S.000Z", clock.gmtime(clock.time() - 60 + n))
        return claude_line(at, f"m{n}", f"r{n}", "claude-sonnet-4-5", 10, 1000, session="s1")

    log.write_text(line(0) + "\n")
    payload = json.dumps(
        {"session_id": "s1", "transcript_path": str(log), "model": {"id": "claude-sonnet-4-5"}}
    )
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(config), "NO_COLOR": "1"}
    code = (
        "import sys\n"
        "from burntray.cli import main\n"
        "main(['statusline', '--show', 'session'])\n"
        "sys.stdout.flush()\n"
        "names = ('multiprocessing', 'concurrent.futures', 'tempfile', 'pickle', 'socket')\n"
        "print(repr([n for n in names if n in sys.modules]), file=sys.stderr)\n"
    )
    command = [sys.executable, "-c", code]
    first = subprocess.run(
        command, input=payload, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    with log.open("a") as fh:
        fh.write(line(1) + "\n")
    warm = subprocess.run(
        command, input=payload, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert first.stdout != warm.stdout, warm.stdout  # the new request is in the session's cost
    assert "$" in warm.stdout, warm.stdout
    assert ast.literal_eval(warm.stderr.strip().splitlines()[-1]) == [], warm.stderr


def test_a_cache_is_replaced_atomically_without_waiting_for_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The status line's cache and observation are written with ``durable=False``: replaced
    by a rename as every file (0600, no temp file left) but not fsynced, which made Claude Code
    wait tens of milliseconds per run on a busy disk. Other writes still fsync."""
    from burntray.io.atomic import atomic_write

    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    folder = tmp_path / "cache"
    folder.mkdir()
    target = folder / "cache.bin"
    atomic_write(target, b"first")
    assert len(synced) == 1
    atomic_write(target, b"second", temp_prefix=".tmp-", durable=False)
    assert len(synced) == 1
    assert target.read_bytes() == b"second"
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in folder.iterdir()) == ["cache.bin"]


@pytest.mark.parametrize("fmt", ["tmux", "json"])
def test_a_short_command_leaves_the_collector_alone_while_it_starts(fmt: str) -> None:
    """Start-up's objects all stay, so a short command runs with a higher first threshold:
    the collector ran 25 times during ``status --format json`` at the default, at most twice
    now; the usual threshold is back after ``main``."""
    code = (
        "import gc, sys\n"
        "from burntray.cli import main\n"
        "runs = []\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and runs.append(1))\n"
        "usual = gc.get_threshold()\n"
        f"main(['status', '--format', {fmt!r}])\n"
        "sys.stdout.flush()\n"
        "print(repr([len(runs), gc.get_threshold() == usual]), file=sys.stderr)\n"
    )
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    runs, restored = ast.literal_eval(done.stderr.strip().splitlines()[-1])
    assert restored, done.stderr
    assert runs <= 2, done.stderr


def test_a_long_running_command_keeps_the_collectors_usual_pace() -> None:
    """``serve`` stays: it binds its port at the usual threshold (here the port is taken, so
    it stops at once with its error)."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = (
            "import gc, sys\n"
            "seen = []\n"
            "def hook(event, args):\n"
            "    if event == 'socket.bind':\n"
            "        seen.append(gc.get_threshold()[0])\n"
            "sys.addaudithook(hook)\n"
            "from burntray.cli import main\n"
            "usual = gc.get_threshold()[0]\n"
            f"code = main(['serve', '--metrics', '127.0.0.1:{port}'])\n"
            "print(repr([code, usual, seen]), file=sys.stderr)\n"
        )
        command = [sys.executable, "-c", code]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    code_usual_seen = ast.literal_eval(done.stderr.strip().splitlines()[-1])
    assert code_usual_seen[0] != 0, done.stderr
    assert code_usual_seen[2], done.stderr  # it tried to bind
    assert set(code_usual_seen[2]) == {code_usual_seen[1]}, done.stderr


def test_msgspec_reads_every_struct_as_it_did_with_typing_extensions() -> None:
    """``burntray.cli`` imports msgspec with typing_extensions hidden (it loaded inspect, ast
    and dis for three names): msgspec then reads every burntray Struct's type hints exactly as
    typing_extensions' ``get_type_hints`` reads them, its ``Required``/``NotRequired`` are the
    same objects, and typing_extensions still imports as itself afterwards (the tray's
    notifier needs it)."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import burntray.cli\n"
        "import burntray, msgspec\n"
        "hidden = [n for n in ('typing_extensions', 'inspect') if n in sys.modules]\n"
        "from msgspec import _utils\n"
        "for info in pkgutil.walk_packages(burntray.__path__, 'burntray.'):\n"
        "    try:\n"
        "        importlib.import_module(info.name)\n"
        "    except Exception:  # a GUI toolkit this machine lacks: its Structs are not checked\n"
        "        pass\n"
        "import typing_extensions as te\n"
        "def structs(cls):\n"
        "    for sub in cls.__subclasses__():\n"
        "        yield sub\n"
        "        yield from structs(sub)\n"
        "ours = {c for c in structs(msgspec.Struct) if c.__module__.startswith('burntray.')}\n"
        "def hints(read, c):  # a name only type checkers import fails alike either way\n"
        "    try:\n"
        "        return read(c)\n"
        "    except (NameError, TypeError) as exc:\n"
        "        return repr(exc)\n"
        "differ = [c.__qualname__ for c in ours if hints(_utils.get_type_hints, c)\n"
        "          != hints(lambda c: te.get_type_hints(c, include_extras=True), c)]\n"
        "same = (_utils.Required is te.Required, _utils.NotRequired is te.NotRequired)\n"
        "print(repr([hidden, len(ours), differ, same, hasattr(te, 'ReadOnly')]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    hidden, checked, differ, same, real = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    assert hidden == []  # msgspec loaded without them
    assert checked > 100, checked  # burntray's Structs were found and compared
    assert differ == []
    assert same == (True, True)
    assert real  # the real typing_extensions, not the hidden entry


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="uuid imports no platform there")
def _printed(code: str) -> Any:
    """What ``code``, run by a fresh interpreter, printed as a Python literal."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return ast.literal_eval(done.stdout.strip())


def test_uuid_learns_the_system_as_platform_would_tell_it() -> None:
    """``burntray.cli`` has uuid (msgspec's) import a stand-in for platform, whose own import
    compiled regular expressions for one ``system()`` call: uuid's AIX and Linux flags are what
    the real module gives, platform itself is not loaded by it, and a later import of platform
    gets the real module."""
    code = (
        "import sys\n"
        "import burntray.cli\n"
        "import uuid\n"
        "loaded = 'platform' in sys.modules\n"
        "import platform\n"
        "real = platform.system()\n"
        "print(repr([loaded, uuid._AIX, uuid._LINUX, real == 'AIX', real == 'Linux',\n"
        "            hasattr(platform, 'python_version')]))\n"
    )
    loaded, aix, linux, real_aix, real_linux, whole = _printed(code)
    assert not loaded
    assert (aix, linux) == (real_aix, real_linux)
    assert whole  # the real platform module after msgspec's import


def test_textwrap_is_imported_when_msgspec_first_uses_it() -> None:
    """msgspec imports textwrap for JSON schemas' descriptions only; ``burntray.cli`` has it
    imported on first use: not loaded by msgspec's import, a schema's description dedented as
    the real module does it, and the real module for a later import."""
    code = (
        "import sys\n"
        "import burntray.cli\n"
        "import msgspec\n"
        "loaded = 'textwrap' in sys.modules\n"
        "class S(msgspec.Struct):\n"
        "    '''\n"
        "        First.\n"
        "          Second.\n"
        "    '''\n"
        "    a: int\n"
        "described = msgspec.json.schema(S)['$defs']['S']['description']\n"
        "import textwrap\n"
        "print(repr([loaded, described, hasattr(textwrap, 'TextWrapper')]))\n"
    )
    loaded, described, real = _printed(code)
    assert not loaded
    assert described == "First.\n  Second."
    assert real


def test_ipaddress_is_imported_when_urllib_first_uses_it() -> None:
    """pathlib's import loads urllib.parse, which imports ipaddress to check a URL's bracketed
    host; ``burntray.cli`` has it imported on first use: not loaded by the start, the same
    hosts and the same refusal as the real module gives, and the real module afterwards."""
    code = (
        "import sys\n"
        "import burntray.cli\n"
        "from urllib.parse import urlsplit\n"
        "loaded = 'ipaddress' in sys.modules\n"
        "hosts = [urlsplit(u).hostname for u in ('http://[::1]:8/x', 'http://[v1.x]/')]\n"
        "try:\n"
        "    urlsplit('http://[zz]/')\n"
        "    refused = ''\n"
        "except ValueError as exc:\n"
        "    refused = str(exc)\n"
        "import ipaddress\n"
        "print(repr([loaded, hosts, refused, str(ipaddress.ip_address('::1'))]))\n"
    )
    loaded, hosts, refused, real = _printed(code)
    assert not loaded
    assert hosts == ["::1", "v1.x"]
    assert "does not appear to be an IPv4 or IPv6 address" in refused
    assert real == "::1"


def test_msgspec_inspect_is_imported_when_first_used() -> None:
    """msgspec's import names msgspec.inspect for JSON schemas (and its users); ``burntray.cli``
    has it imported on first use: not loaded by the start, the same type information and
    schemas, and the real module for a later import."""
    code = (
        "import sys\n"
        "import burntray.cli\n"
        "import msgspec\n"
        "loaded = 'msgspec.inspect' in sys.modules\n"
        "class S(msgspec.Struct):\n"
        "    a: int\n"
        "    b: str = ''\n"
        "names = [f.name for f in msgspec.inspect.type_info(S).fields]\n"
        "schema = msgspec.json.schema(S)['$defs']['S']['required']\n"
        "import msgspec.inspect as real\n"
        "print(repr([loaded, names, schema, type(real).__name__]))\n"
    )
    loaded, names, required, kind = _printed(code)
    assert not loaded
    assert names == ["a", "b"]
    assert required == ["a"]
    assert kind == "module"
