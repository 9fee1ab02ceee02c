"""``burntray serve``: the monitor with no tray, serving /metrics, /healthz and /v1/status (and
receiving OTLP when asked). Options are checked here, before anything listens: a refusal is said
at start with exit 2."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from burntray.cli.common import EXIT_USAGE, fail, load_context, source_choices
from burntray.io.hostport import split_host_port

if TYPE_CHECKING:
    from burntray.config import Settings

HELP = "the monitor with no tray: /metrics, /healthz, /v1/status (and OTLP in)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", choices=source_choices(), help="default: config")
    parser.add_argument(
        "--otlp", metavar="HOST:PORT", help="where the OTLP receiver listens (otel.listen)"
    )
    parser.add_argument(
        "--metrics", metavar="HOST:PORT", help="where /metrics is served (serve.metrics)"
    )
    parser.add_argument(
        "--tls-cert",
        metavar="PEM",
        help="certificate chain: both listeners over https (serve.tls_cert, otel.tls_cert)",
    )
    parser.add_argument(
        "--tls-key", metavar="PEM", help="the certificate's key (serve.tls_key, otel.tls_key)"
    )


def refusal(settings: Settings) -> str:
    """Why ``serve`` cannot listen as asked (said at start, exit 2), or ""."""
    from burntray.io.http_admission import is_loopback, tls_context  # noqa: PLC0415
    from burntray.serve.run import receiver_requested  # noqa: PLC0415

    try:
        tls_context(settings.serve_tls_cert, settings.serve_tls_key)
    except ValueError as exc:
        return f"cannot serve /metrics: {exc}"
    if not receiver_requested(settings):
        return ""
    listen = str(settings.option("otel.listen"))
    host, _ = split_host_port(listen)
    if not is_loopback(host) and not settings.option("otel.token"):
        return (
            f"refusing to receive OTLP on {listen}: an address beyond loopback needs a bearer "
            "token (set otel.token in config.toml; senders pass Authorization: Bearer <token>)"
        )
    try:
        tls_context(str(settings.option("otel.tls_cert")), str(settings.option("otel.tls_key")))
    except ValueError as exc:
        return f"cannot receive OTLP on {listen}: {exc}"
    return ""


def run(args: argparse.Namespace) -> int:
    from burntray.errors import ConfigError  # noqa: PLC0415
    from burntray.serve.run import run_serve  # noqa: PLC0415

    try:
        ctx = load_context()
        options = {"otel.listen": args.otlp} if args.otlp else {}
        if args.otlp:
            options["otel.enabled"] = True  # asked for a receiver: `all` includes it
        changes: dict[str, object] = {"source": args.source} if args.source else {}
        if args.tls_cert or args.tls_key:
            tls = {"cert": args.tls_cert or "", "key": args.tls_key or ""}
            changes.update(serve_tls_cert=tls["cert"], serve_tls_key=tls["key"])
            options.update({"otel.tls_cert": tls["cert"], "otel.tls_key": tls["key"]})
        settings = ctx.settings.replace(options=options, **changes)
        metrics = args.metrics or settings.serve_metrics
        split_host_port(metrics)
        why = refusal(settings)
        if why:
            return fail(why, EXIT_USAGE)
    except ConfigError as exc:
        message = str(exc).replace("settings: otel.listen", "--otlp")
        return fail(message.replace("settings: source", "--source"), EXIT_USAGE)
    except ValueError:
        return fail(
            f"--metrics: expected HOST:PORT such as 127.0.0.1:9464, not {metrics!r}", EXIT_USAGE
        )
    ctx.settings = settings
    return run_serve(ctx, settings, metrics)
