"""``burntray serve``: the monitor (sources, history, alerts) with no tray, for servers,
containers and systemd, serving its figures on ``/metrics``, ``/healthz`` and ``/v1/status``.

The monitor thread publishes; the HTTP threads only read what it published (``FiguresBoard``).
Alerts are evaluated and logged as in the tray (there is no desktop to notify); their level is
the ``burntray_alert_level`` gauge. SIGTERM and Ctrl-C stop it cleanly (exit 0).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from burntray.io.hostport import split_host_port
from burntray.lazylog import get_logger
from burntray.serve.figures import Figures, FiguresBoard
from burntray.serve.http import FiguresServer, HealthCheck
from burntray.sources.base import FoldsNames, HasHosts, HasMembers, Listens, members_of
from burntray.sources.registry import META_SOURCES, REGISTRY

if TYPE_CHECKING:
    from burntray.app import AppContext
    from burntray.config import Settings
    from burntray.model.snapshot import Snapshot
    from burntray.serve.otlp_push import OtlpPush
    from burntray.sources.base import Source
    from burntray.sources.spec import ReceiverSpec

log = get_logger(__name__)

DEFAULT_METRICS = "127.0.0.1:9464"
ALERTS_EVERY_NS = 10 * 1_000_000_000  # the status document's alerts object is this fresh
# ... and while usage streams in (the figures change on every tick, every 5 ms under an OTLP
# stream), at most this stale: evaluating it reads today's spend and the alert state from the
# history, over half of a tick's time, so not on every tick. A new alert level is at once.
ALERTS_MIN_GAP_NS = 1_000_000_000


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
        self._alerts_level = ""

    def __call__(self, snapshot: Snapshot, source: Source) -> Snapshot:
        from burntray.model.export import snapshot_to_dict  # noqa: PLC0415

        now = snapshot.as_of_ns
        since = None
        try:
            since = source.snapshot(max(now - self.board.started_ns, 1), now)
        except Exception:
            log.exception("serve: usage since start unavailable")
        doc = snapshot_to_dict(snapshot, self._prices)
        doc["alerts"] = self._alert_doc(source, now, snapshot.totals, snapshot.alert_level)
        self.board.put(
            Figures(snapshot, since, doc, source_folds(source), self._hosts(snapshot, source))
        )
        return snapshot

    @staticmethod
    def _hosts(snapshot: Snapshot, source: Source) -> tuple[tuple[str, str, int, int, float], ...]:
        """A team hub's window per machine, for the ``host`` series (other sources: none)."""
        if not isinstance(source, HasHosts):
            return ()
        now = snapshot.as_of_ns
        try:
            rows = source.host_totals(now - snapshot.window_ns, now + 1)
        except Exception:
            log.exception("serve: per-host figures unavailable")
            return ()
        # tokens: the records' own plus those estimated from a byte-counting source's bytes
        return tuple(
            (h.host, h.user, h.reqs, h.input + h.output + h.cache_read + h.cache_write
             + h.estimated, h.cost)
            for h in rows
        )  # fmt: skip

    def _alert_doc(
        self, source: Source, now: int, totals: object, level: str
    ) -> dict[str, Any] | None:
        """Re-evaluated when the alert level changes; when the figures change, at most every
        ``ALERTS_MIN_GAP_NS``; else every ``ALERTS_EVERY_NS`` (it reads today's spend from the
        history)."""
        age = now - self._alerts_at
        if (
            self._alerts is None
            or level != self._alerts_level
            or age >= ALERTS_EVERY_NS
            or (totals != self._alerts_for and age >= ALERTS_MIN_GAP_NS)
        ):
            self._alerts_for, self._alerts_level = totals, level
            from burntray.runtime.alerting import alert_status  # noqa: PLC0415

            try:
                self._alerts = alert_status(source, self._settings, now, self._ctx.history())
            except Exception as exc:
                self._alerts = {"level": None, "error": f"alert state unreadable: {exc}"}
            self._alerts_at = now
        return self._alerts


def source_folds(source: Source) -> dict[tuple[str, str], int]:
    """(member source, tool) -> requests it counted as model "other" in this process."""
    out: dict[tuple[str, str], int] = {}
    for name, member in members_of(source).items():
        if isinstance(member, FoldsNames):
            try:
                folds = member.folded_since_start()
            except Exception:  # a count that cannot be read is left out, never the figures
                log.exception("serve: %s: folded requests unavailable", name)
                continue
            for tool, n in folds.items():
                out[(name, tool)] = n
    return out


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


def _receivers() -> list[tuple[str, ReceiverSpec]]:
    """(source name, its receiver) for every source that listens for its data."""
    return [(spec.name, spec.receiver) for spec in REGISTRY if spec.receiver is not None]


def _requested(settings: Settings) -> list[tuple[str, ReceiverSpec]]:
    """The receivers these settings ask for: a listening source itself, or its ``enabled`` key
    in ``all`` or ``auto``."""
    asked = [
        (name, receiver, bool(settings.option(receiver.enabled_key)))
        for name, receiver in _receivers()
    ]
    return [
        (name, receiver)
        for name, receiver, enabled in asked
        if (settings.source == name and (enabled or not receiver.alone))
        or (settings.source in META_SOURCES and enabled and not receiver.alone)
    ]


def receiver_requested(settings: Settings) -> bool:
    """Whether these settings ask for a source's receiver (``--otlp``, its ``enabled`` key in
    ``all`` or ``auto``, or that source itself)."""
    return bool(_requested(settings))


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
        if isinstance(source, HasMembers):
            if name in source.members:
                return source.members[name], ""
            why = source.absent.get(name, "not among the sources")
        else:
            why = "not among the sources"
        return None, f"source {name}: {why}"


def receiver_ready(watch: SourceWatch, settings: Settings | None = None) -> HealthCheck:
    """Ready while every receiver ``settings`` ask for (None: every receiver ``all`` can
    start) listens and counts what it acknowledges (the source says how: ``Listens``)."""
    every = [(name, r) for name, r in _receivers() if not r.alone]
    receivers = every if settings is None else _requested(settings)

    def check() -> tuple[bool, str]:
        why = "ok"
        for name, receiver in receivers:
            source, missing = watch.member(name)
            if source is None:
                return False, f"{receiver.label} not ready: {missing}"
            if not isinstance(source, Listens):
                return False, f"{receiver.label} not ready: source {name} cannot listen"
            ok, why = source.listening_health()
            if not ok:
                return False, why
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


class ServedFigures:
    """``serve``'s metrics part of the session: publishes each snapshot to the figures server
    (and the optional OTLP push reads the same board); closing it stops both."""

    def __init__(
        self, server: FiguresServer, publisher: FiguresPublisher, push: OtlpPush | None
    ) -> None:
        self.server = server
        self._publisher = publisher
        self._push = push

    def __call__(self, snapshot: Snapshot, source: Source) -> Snapshot:
        return self._publisher(snapshot, source)

    def close(self) -> None:
        if self._push is not None:
            self._push.close()
        self.server.close()


def run_serve(
    ctx: AppContext,
    settings: Settings,
    metrics: str,
    stop: threading.Event | None = None,
    ready: Callable[[FiguresServer], None] | None = None,
) -> int:
    """Run until ``stop`` (or SIGTERM/SIGINT); 0 on a clean stop, 1 when it cannot serve, 2 when
    its TLS files cannot be used."""
    from burntray.runtime.session import Session  # noqa: PLC0415

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
    served = ServedFigures(
        server,
        FiguresPublisher(ctx, settings, board),
        _otlp_push(board, settings.export_otlp_endpoint),
    )
    # no desktop: alerts are logged and exported (the figures come after them: their level)
    session = Session(
        ctx,
        view="serve",
        settings=settings,
        notifier=None,
        metrics=served,
        console_warnings=True,  # the file, and warnings on stderr (the journal)
        stop=stop,
    )
    try:
        session.setup_logging()
        if not server.loopback:
            log.warning("serve: /metrics is reachable beyond this machine on %s", server.address)
        if receiver_requested(settings):  # /healthz is not ok while the asked-for receiver is down
            watch = SourceWatch()
            session.monitor.enrichers.append(watch)
            server.checks.append(receiver_ready(watch, settings))
        session.start()
        print(
            f"burntray serve: source {settings.source}; {server.url}/metrics, /healthz, /v1/status",
            file=sys.stderr,
            flush=True,
        )
        if ready is not None:
            ready(server)
        while not session.stop_requested.wait(1.0):
            if not session.monitor.alive:  # never expected: the monitor catches everything
                log.error("serve: the monitor stopped; exiting")
                return 1
    finally:
        session.close()
    return 0
