"""``burntray clear-cache --<target>``: empty an upstream's store (each source that can be
cleared declares its flag in its spec) or burntray's history, after asking."""

from __future__ import annotations

import argparse

from burntray.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, confirm, fail, load_context

HELP = "empty an upstream's stats or burntray's history"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from burntray.actions import clear_targets  # noqa: PLC0415

    what = parser.add_mutually_exclusive_group(required=True)
    for target in clear_targets():
        what.add_argument(
            f"--{target.key}",
            action="store_const",
            const=target.key,
            dest="target",
            help=f"empty {target.label}",
        )
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def run(args: argparse.Namespace) -> int:
    from burntray.errors import BurntrayError, ConfigError  # noqa: PLC0415

    try:
        ctx = load_context()
    except ConfigError as exc:
        return fail(str(exc), EXIT_USAGE)
    from burntray.actions import clear_targets, describe_clear, run_clear  # noqa: PLC0415

    label = next(t.label for t in clear_targets() if t.key == args.target)
    try:
        what = describe_clear(ctx, args.target)
    except BurntrayError as exc:
        ctx.close()
        return fail(str(exc), EXIT_FAILED)
    question = f"Empty {label} ({what})? Other files, settings and alert state are kept."
    if not args.yes and not confirm(question):
        ctx.close()
        return fail("not cleared", EXIT_FAILED)
    try:
        print(run_clear(ctx, args.target))
    except BurntrayError as exc:
        return fail(str(exc), EXIT_FAILED)
    finally:
        ctx.close()
    return EXIT_OK
