"""A plain ``status`` or ``statusline`` line is read without argparse (``cli.quickargs``): the
namespace equals the one argparse gives for the same words, and every line it does not read
exactly as argparse would is left to argparse."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from burntray import __version__
from burntray.cli.parser import build_parser
from burntray.cli.quickargs import quick_parse

# Lines read here: each must give argparse's own namespace.
READ = [
    ["status"],
    ["status", "--format", "tmux"],
    ["status", "--source", "claude", "--window", "7d", "--format", "json"],
    ["status", "--source=all", "--format=tmux", "--window", ""],
    ["status", "--format", "text", "--format", "json"],  # the last one counts, as in argparse
    ["status", "--by", "day,model", "--since", "2026-01-01", "--until", "20260131"],
    ["status", "--window", "all", "--by", "day", "--timezone", "UTC", "--start-of-week", "monday"],
    ["status", "--watch", "--source", "codex"],
    ["statusline"],
    ["statusline", "show", "--color", "never", "--show", "model,today"],
    ["statusline", "--color=always"],
    ["statusline", "install", "--command", "burntray statusline --color never"],
]
# Lines left to argparse: unknown, short, abbreviated, refused, converted or misplaced.
LEFT = [
    [],
    ["run"],
    ["report", "--by", "day"],
    ["-v", "status"],
    ["status", "-h"],
    ["status", "--help"],
    ["status", "--form", "tmux"],
    ["status", "--format", "yaml"],
    ["status", "--source", "nosuch"],
    ["status", "--window"],
    ["status", "--window", "-5m"],
    ["status", "--watch=yes"],
    ["status", "--", "--format"],
    ["status", "extra"],
    ["statusline", "--color", "never", "show"],  # argparse fills the positional first
    ["statusline", "install", "--refresh", "60"],  # argparse converts it to an int
    ["statusline", "shout"],
]


@pytest.mark.parametrize("argv", READ, ids=" ".join)
def test_a_plain_line_gives_argparses_namespace(argv: list[str]) -> None:
    quick = quick_parse(argv, __version__)
    assert quick is not None
    assert vars(quick) == vars(build_parser(argv[0]).parse_args(argv))


@pytest.mark.parametrize("argv", LEFT, ids=lambda argv: " ".join(argv) or "(none)")
def test_any_other_line_is_left_to_argparse(argv: list[str]) -> None:
    assert quick_parse(argv, __version__) is None


def test_a_plain_status_line_loads_no_argparse() -> None:
    """The real command in a fresh interpreter: its line is printed, argparse (and its gettext
    and locale) never imported; a line with ``-h`` still gets argparse's help."""
    code = (
        "import sys\n"
        "from burntray.cli import main\n"
        "code = main(['status', '--source', 'claude', '--format', 'tmux'])\n"
        "sys.stdout.flush()\n"
        "names = ('argparse', 'gettext', 'locale', 'burntray.cli.parser')\n"
        "print(repr([code, [n for n in names if n in sys.modules]]), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    code_and_loaded = ast.literal_eval(done.stderr.strip().splitlines()[-1])
    assert "rpm" in done.stdout, done.stdout + done.stderr
    assert code_and_loaded[1] == []
    helped = subprocess.run(
        [sys.executable, "-m", "burntray", "status", "-h"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert helped.returncode == 0 and "--window" in helped.stdout, helped
    refused = subprocess.run(
        [sys.executable, "-m", "burntray", "status", "--format", "yaml"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert refused.returncode == 2 and "invalid choice: 'yaml'" in refused.stderr, refused


def test_a_declaration_this_reader_does_not_follow_leaves_every_line_to_argparse() -> None:
    """A required option, a converted default or a group: the recorder says it cannot read
    that command's lines (a namespace without argparse's checks would be wrong)."""
    from burntray.cli.quickargs import _declared

    def required(parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--to", required=True)

    def converted(parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--every", type=int, default="60")

    def grouped(parser):  # type: ignore[no-untyped-def]
        parser.add_mutually_exclusive_group().add_argument("--a", action="store_true")

    def plain(parser):  # type: ignore[no-untyped-def]
        parser.add_argument("-q", action="store_true")
        parser.add_argument("--every", type=int, default=60)

    assert [_declared(d).usable for d in (required, converted, grouped)] == [False] * 3
    recorded = _declared(plain)
    assert recorded.usable and recorded.defaults == {"q": False, "every": 60}
    assert "--every" not in recorded.options  # given, it goes to argparse (which converts it)
