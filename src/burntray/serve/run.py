"""``burntray serve``: the monitor (sources, history, alerts) with no tray, for servers,
containers and systemd, serving its figures on ``/metrics``, ``/healthz`` and ``/v1/status``.

The monitor thread publishes; the HTTP threads only read what it published (``FiguresBoard``).
Alerts are evaluated and logged as in the tray (there is no desktop to notify); their level is
the ``burntray_alert_level`` gauge. SIGTERM and Ctrl-C stop it cleanly (exit 0).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from burntray.io.hostport import split_host_port
from burntray.lazylog import get_logger
from burntray.serve.figures import Figures, FiguresBoard
from burntray.serve.http import FiguresServer, HealthCheck

if TYPE_CHECKING:
    from burntray.app import AppContext
    from burntray.config import Settings
    from burntray.model.snapshot import Snapshot
    from burntray.serve.otlp_push import OtlpPush
    from burntray.sources.base import Source

log = get_logger(__name__)

DEFAULT_METRICS = "127.0.0.1:9464"
ALERTS_EVERY_NS = 10 * 1_000_000_000  # the status document's alerts object is this fresh


class FiguresPublisher:
    """A monitor enricher (monitor thread): publishes the window's snapshot, the usage since
    ``board.started_ns`` and the status document to ``board``. Returns the snapshot as is."""

    def __init__(self, ctx: AppContext, settings: Settings, board: FiguresBoard) -> None:
        self._ctx = ctx
        self._settings = settings
        self._prices = ctx.prices(settings)
        self.board = board
        self._alerts: dict[str, Any] | None = None
        self._alerts_at = 0
        self._alerts_for: object = None

    def __call__(self, snapshot: Snapshot, source: Source) -> Snapshot:
        from burntray.model.export import snapshot_to_dict  # noqa: PLC0415

        now = snapshot.as_of_ns
        since = None
        try:
            since = source.snapshot(max(now - self.board.started_ns, 1), now)
        except Exception:
            log.exception("serve: usage since start unavailable")
        doc = snapshot_to_dict(snapshot, self._prices)
        doc["alerts"] = self._alert_doc(source, now, (snapshot.totals, snapshot.alert_level))
        self.board.put(Figures(snapshot, since, doc))
        return snapshot

    def _alert_doc(self, source: Source, now: int, figures: object) -> dict[str, Any] | None:
        """Re-evaluated when the figures change, else every ``ALERTS_EVERY_NS`` at most (it
        reads today's spend from the history)."""
        if (
            self._alerts is None
            or figures != self._alerts_for
            or now - self._alerts_at >= ALERTS_EVERY_NS
        ):
            self._alerts_for = figures
            from burntray.runtime.alerting import alert_status  # noqa: PLC0415

            try:
                self._alerts = alert_status(source, self._settings, now, self._ctx.history())
            except Exception as exc:
                self._alerts = {"level": None, "error": f"alert state unreadable: {exc}"}
            self._alerts_at = now
        return self._alerts


def figures_server(settings: Settings, host: str, port: int, board: FiguresBoard) -> FiguresServer:
    """The figures endpoint as ``serve.*`` configures it (token, TLS, extra Host names);
    ``ValueError`` when the TLS files cannot be used."""
    return FiguresServer(
        host,
        port,
        board,
        token=settings.serve_token,
        allowed_hosts=settings.serve_allowed_hosts,
        tls_cert=settings.serve_tls_cert,
        tls_key=settings.serve_tls_key,
    )


def receiver_requested(settings: Settings) -> bool:
    """Whether these settings ask for the OTLP receiver (``--otlp``, ``otel.enabled`` in
    ``all``, or the ``otel`` source itself)."""
    if settings.source == "otel":
        return True
    return settings.source in ("all", "auto") and bool(settings.option("otel.enabled"))


class SourceWatch:
    """A monitor enricher that keeps the current source (monitor thread) for the readiness
    checks the HTTP threads run. Returns the snapshot as is."""

    def __init__(self) -> None:
        self.source: Source | None = None

    def __call__(self, snapshot: Snapshot, source: Source) -> Snapshot:
        self.source = source
        return snapshot

    def member(self, name: str) -> tuple[Source | None, str]:
        """The source called ``name`` (itself or a member of ``all``), or why it is missing."""
        source = self.source
        if source is None:
            return None, "starting: the sources are not read yet"
        if source.name == name:
            return source, ""
        members = getattr(source, "members", {})
        if name in members:
            return members[name], ""
        why = getattr(source, "absent", {}).get(name, "not among the sources")
        return None, f"source {name}: {why}"


def receiver_ready(watch: SourceWatch) -> HealthCheck:
    """Ready while the OTLP receiver listens and its counting (the ledger and the history
    writes behind it) is not in an error state."""

    def check() -> tuple[bool, str]:
        otel, why = watch.member("otel")
        if otel is None:
            return False, f"OTLP receiver not ready: {why}"
        receiver = getattr(otel, "receiver", None)
        problem = str(getattr(otel, "problem", "") or "")
        if receiver is None or not receiver.running:
            return False, f"OTLP receiver not listening: {problem or 'stopped'}"
        health = getattr(otel, "health", None)
        ok, why = health() if callable(health) else (not problem, problem or "ok")
        if not ok:
            return False, f"OTLP receiver not counting: {why}"
        return True, why

    return check


def _otlp_push(board: FiguresBoard, endpoint: str) -> OtlpPush | None:
    """The optional push to a collector; a missing SDK is said once, and serving goes on."""
    if not endpoint:
        return None
    from burntray.serve.otlp_push import OtlpPush, OtlpPushUnavailable  # noqa: PLC0415

    try:
        push = OtlpPush(board, endpoint)
    except OtlpPushUnavailable as exc:
        print(f"burntray: export.otlp_endpoint ignored: {exc}", file=sys.stderr)
        return None
    print(f"burntray serve: pushing figures to {push.endpoint} (OTLP)", file=sys.stderr)
    return push


def run_serve(
    ctx: AppContext,
    settings: Settings,
    metrics: str,
    stop: threading.Event | None = None,
    ready: Callable[[FiguresServer], None] | None = None,
) -> int:
    """Run until ``stop`` (or SIGTERM/SIGINT); 0 on a clean stop, 1 when it cannot serve, 2 when
    its TLS files cannot be used."""
    from burntray.logsetup import setup_logging  # noqa: PLC0415
    from burntray.runtime.alerting import install_alerts  # noqa: PLC0415
    from burntray.runtime.monitor import Monitor  # noqa: PLC0415

    stop = stop or threading.Event()
    if ctx.config_error:
        print(f"burntray: config ignored, using defaults:\n{ctx.config_error}", file=sys.stderr)
    host, port = split_host_port(metrics)
    board = FiguresBoard(ctx.clock_ns())
    try:
        server = figures_server(settings, host, port, board)
    except ValueError as exc:
        print(f"burntray: cannot serve /metrics on {metrics}: {exc}", file=sys.stderr)
        ctx.close()
        return 2
    try:
        server.start()
    except OSError as exc:
        print(
            f"burntray: cannot serve /metrics on {metrics}: {exc.strerror or exc} "
            "(use --metrics HOST:PORT or serve.metrics in config.toml)",
            file=sys.stderr,
        )
        ctx.close()
        return 1
    setup_logging(ctx.paths, console_warnings=True)  # the file, and warnings on stderr
    if not server.loopback:
        log.warning("serve: /metrics is reachable beyond this machine on %s", server.address)
    monitor = Monitor(settings, ctx.build_source, history=ctx.history(), clock_ns=ctx.clock_ns)
    install_alerts(monitor, ctx, None)  # no desktop: alerts are logged and exported
    monitor.enrichers.append(FiguresPublisher(ctx, settings, board))  # after alerts: the level
    if receiver_requested(settings):  # /healthz is not ok while the asked-for receiver is down
        watch = SourceWatch()
        monitor.enrichers.append(watch)
        server.checks.append(receiver_ready(watch))
    push = _otlp_push(board, settings.export_otlp_endpoint)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    monitor.start()
    print(
        f"burntray serve: source {settings.source}; {server.url}/metrics, /healthz, /v1/status",
        file=sys.stderr,
        flush=True,
    )
    if ready is not None:
        ready(server)
    try:
        while not stop.wait(1.0):
            if not monitor.alive:  # never expected: the monitor catches everything
                log.error("serve: the monitor stopped; exiting")
                return 1
    finally:
        monitor.stop()
        if push is not None:
            push.close()
        server.close()
        ctx.close()
    return 0
