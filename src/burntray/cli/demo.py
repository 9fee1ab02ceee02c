"""``burntray demo``: the tray (or terminal view) on synthetic traffic, never the real caches."""

from __future__ import annotations

import argparse

from burntray.cli.common import add_view_options, load_context

HELP = "the tray on synthetic traffic (never your real caches)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_view_options(parser)


def run(args: argparse.Namespace) -> int:
    from burntray.demo import run_demo  # noqa: PLC0415

    return run_demo(load_context(strict=False), terminal=args.terminal, verbose=args.verbose)
