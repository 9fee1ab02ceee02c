"""``burntray`` / ``burntray run``: the tray, or the live terminal view (``--terminal``, or
when there is no tray)."""

from __future__ import annotations

import argparse

from burntray.cli.common import add_view_options, load_context

HELP = "start the monitor (the default command)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_view_options(parser)


def run(args: argparse.Namespace) -> int:
    from burntray.ui.launch import launch  # noqa: PLC0415

    ctx = load_context(strict=False)
    return launch(ctx, terminal=args.terminal, verbose=args.verbose)
