"""``burntray autostart on|off|status``: start burntray at login (the OS entry), with
config.toml's ``start_at_login`` kept in step."""

from __future__ import annotations

import argparse
import sys

from burntray.cli.common import EXIT_FAILED, EXIT_OK, fail

HELP = "start burntray at login: on, off or status"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("state", choices=("on", "off", "status"))


def run(args: argparse.Namespace) -> int:
    from burntray import autostart  # noqa: PLC0415

    ok, how = autostart.supported()
    if not ok:
        return fail(how, EXIT_FAILED)
    try:
        if args.state != "status":
            autostart.set_enabled(args.state == "on")
        enabled = autostart.is_enabled()
    except autostart.AutostartError as exc:
        return fail(str(exc), EXIT_FAILED)
    if args.state != "status":
        _record_start_at_login(enabled)
    print(f"start at login: {'on' if enabled else 'off'} ({how})")
    if enabled:
        print(f"command: {autostart.registered_command()}")
    return EXIT_OK


def _record_start_at_login(enabled: bool) -> None:
    """Keep config.toml's ``start_at_login`` in step with the OS entry, as the tray menu does:
    that one key is set in the user's file, the rest of it left as written. A file that is not
    TOML is left untouched (the OS entry is what counts)."""
    from burntray.config import load_settings  # noqa: PLC0415
    from burntray.config_write import save_settings  # noqa: PLC0415
    from burntray.errors import ConfigError  # noqa: PLC0415
    from burntray.paths import app_paths  # noqa: PLC0415

    path = app_paths().config_file
    try:
        settings = load_settings(path)
        if settings.start_at_login != enabled:
            save_settings(path, settings.replace(start_at_login=enabled), previous=settings)
    except ConfigError as exc:
        print(f"burntray: {path} not updated (it is invalid): {exc}", file=sys.stderr)
    except OSError as exc:
        print(f"burntray: {path} not updated: {exc}", file=sys.stderr)
