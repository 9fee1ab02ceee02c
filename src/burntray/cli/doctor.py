"""``burntray doctor``: sources, their status and every path in use (the body is
``burntray.doctor``)."""

from __future__ import annotations

import argparse

from burntray.cli.common import load_context

HELP = "show sources, their status, and every path in use"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """doctor takes no options."""


def run(args: argparse.Namespace) -> int:
    from burntray.doctor import run_doctor  # noqa: PLC0415

    return run_doctor(load_context(strict=False, warn=False))
