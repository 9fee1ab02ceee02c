"""Reporting to a team's hub (``[team] hub``): this machine's records, sent as OTLP logs.

The history queues every record it writes (``store.team``); this thread sends the queue in
bounded batches (``wire.encode``: POST /v1/logs, protobuf, bearer token) and forgets a batch
only when the hub acknowledged all of it. An unreachable or failing hub is retried with
exponential backoff and full jitter; nothing is lost meanwhile, and the hub counts a record
resent after a crash once (by its record id). A partial success is logged with the hub's reason
and the batch is acknowledged: the refused records are skipped, never sent again in a loop.

Safety: plain http:// to a hub that is not on loopback is refused unless ``team.allow_insecure``;
https verifies the hub's certificate (``team.ca_file`` adds a private CA). The token is sent
only in the Authorization header and never logged or shown.
"""

from __future__ import annotations

import getpass
import http.client
import os
import random
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote, urlsplit

from burntray.io.http_admission import is_loopback
from burntray.lazylog import get_logger
from burntray.sources.base import HasMembers
from burntray.store.team import TeamOutbox

if TYPE_CHECKING:
    from burntray.runtime.team_wire import RollupExport
    from burntray.sources.base import Source
    from burntray.sources.spec import SourceSpec
    from burntray.store.history import HistoryStore

log = get_logger(__name__)

BATCH = 2000  # records per export: ~600 KB of protobuf, well under a receiver's 8 MiB
IDLE_S = 1.0  # how often an idle sender looks at the queue (a poll of the monitor wakes it)
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0
TIMEOUT_S = 15.0


class TeamConfigError(ValueError):
    """``[team]`` cannot be used as set; the message says which key and why."""


class Target(NamedTuple):
    url: str  # the full /v1/logs URL
    host: str  # this machine's host.name
    user: str  # user.name
    token: str
    ca_file: str


def _resource_env(environ: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    """``OTEL_RESOURCE_ATTRIBUTES`` ("k=v,k2=v2", values percent-encoded) as a dict."""
    out: dict[str, str] = {}
    for item in environ.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            out[key.strip()] = unquote(value.strip())
    return out


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no name for this uid (a container): the hub shows it without one
        return ""


def names(option: Callable[[str], Any], environ: Any = None) -> tuple[str, str]:
    """This machine's (host, user) at a hub: config first, then ``OTEL_RESOURCE_ATTRIBUTES``,
    then the OS."""
    env = _resource_env(os.environ if environ is None else environ)
    host = str(option("team.host") or "") or env.get("host.name", "") or socket.gethostname()
    user = str(option("team.user") or "") or env.get("user.name", "") or _os_user()
    return host[:128], user[:128]


def target(option: Callable[[str], Any], environ: Any = None) -> Target | None:
    """Where and as whom to report, from the ``team.*`` keys (None: no hub configured).
    Names: config first, then ``OTEL_RESOURCE_ATTRIBUTES``, then the OS."""
    address = str(option("team.hub") or "")
    if not address:
        return None
    parts = urlsplit(address)
    insecure = parts.scheme == "http" and not is_loopback(parts.hostname or "")
    if insecure and not option("team.allow_insecure"):
        raise TeamConfigError(
            f"team.hub {address}: refusing plain http:// to a hub that is not on loopback "
            "(the token and your usage would cross the network readable); use https://, "
            "or set team.allow_insecure = true on a network you trust"
        )
    host, user = names(option, environ)
    path = parts.path.rstrip("/")
    url = address if path.endswith("/v1/logs") else address.rstrip("/") + "/v1/logs"
    token, ca_file = str(option("team.token") or ""), str(option("team.ca_file") or "")
    return Target(url, host, user, token, ca_file)


class SendError(Exception):
    """A batch the hub did not take (sent again after a backoff: nothing is dropped);
    ``retry`` False: not as it is (a body too large for the hub: smaller batches)."""

    def __init__(self, message: str, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


def post(t: Target, body: bytes, context: ssl.SSLContext | None) -> tuple[int, str]:
    """POST one export; returns (records the hub refused, its reason). Raises SendError."""
    parts = urlsplit(t.url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.hostname or "", port, timeout=TIMEOUT_S, context=context
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname or "", port, timeout=TIMEOUT_S)
    headers = {"Content-Type": "application/x-protobuf", "User-Agent": "burntray-team"}
    if t.token:
        headers["Authorization"] = f"Bearer {t.token}"
    try:
        conn.request("POST", parts.path or "/v1/logs", body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read(1 << 20)
    except ssl.SSLCertVerificationError as exc:
        raise SendError(
            f"the hub's certificate is not trusted ({exc.verify_message}); give its CA in "
            "team.ca_file"
        ) from None
    except ssl.SSLError as exc:
        raise SendError(f"TLS with the hub failed ({exc.reason or exc})") from None
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        # a TLS server drops a plain-text request at once: while it is sent, or before it answers
        hint = "; a hub serving https refuses http://: use https:// in team.hub"
        raise SendError(
            "the hub closed the connection without answering"
            + (hint if parts.scheme == "http" else "")
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        raise SendError(f"cannot reach the hub: {exc}") from None
    finally:
        conn.close()
    if resp.status == 401:
        raise SendError("the hub refused the token (HTTP 401): check team.token")
    if resp.status == 400 and b"HTTP request" in data:
        raise SendError("the hub speaks https: use an https:// URL in team.hub")
    if resp.status != 200:
        text = data[:200].decode("utf-8", "replace").strip()
        raise SendError(f"the hub answered HTTP {resp.status}: {text}", resp.status != 413)
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (  # noqa: PLC0415
        ExportLogsServiceResponse,
    )

    answer = ExportLogsServiceResponse()
    try:
        answer.ParseFromString(data)
    except Exception:  # a 200 is an acknowledgement; a body we cannot read says no more
        return 0, ""
    partial = answer.partial_success
    return int(partial.rejected_log_records), str(partial.error_message)


class TeamSender:
    """The sending thread; ``start``/``close`` by the session, ``nudge`` after a poll."""

    def __init__(
        self,
        history: HistoryStore,
        t: Target,
        *,
        batch: int = BATCH,
        idle_s: float = IDLE_S,
        backoff_max_s: float = BACKOFF_MAX_S,
        rng: random.Random | None = None,
        rollups: tuple[RollupExport, ...] = (),
    ) -> None:
        self.outbox = TeamOutbox(history)
        self.rollups = rollups  # byte-counting sources: their minutes, not their events
        # the sources whose minutes go, as the followed source counts them (None: every one)
        self.counted: frozenset[str] | None = None
        self.target = t
        self.batch_size = batch
        self.idle_s = idle_s
        self.backoff_max_s = backoff_max_s
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0  # records the hub acknowledged since start
        self.refused = 0  # records the hub refused (partial success)
        self.last_error = ""
        self._context: ssl.SSLContext | None = None

    def _ssl(self) -> ssl.SSLContext | None:
        if not self.target.url.startswith("https:"):
            return None
        if self._context is None:
            context = ssl.create_default_context()
            if self.target.ca_file:
                try:
                    context.load_verify_locations(cafile=self.target.ca_file)
                except (OSError, ssl.SSLError) as exc:
                    raise SendError(f"team.ca_file {self.target.ca_file}: {exc}") from None
            self._context = context
        return self._context

    def start(self) -> None:
        was_on = self.outbox.is_on()
        queued = self.outbox.enable()  # from here on, what is written is queued or marked
        if not was_on:
            # reporting (re)starts, perhaps to another hub: every minute is owed again, as
            # every record is queued again (the hub replaces what it holds)
            for export in self.rollups:
                export.owe_all()
        if queued:
            log.info("team: %d records kept before now queued for the hub", queued)
        log.info(
            "team: reporting to %s as host %s, user %s",
            self.target.url,
            self.target.host,
            self.target.user or "(none)",
        )
        self._thread = threading.Thread(target=self._run, name="burntray-team", daemon=True)
        self._thread.start()

    def nudge(self) -> None:
        self._wake.set()

    def follow(self, source: Source) -> None:
        """What the followed source counts, after each poll: only those sources' minutes go,
        so the hub counts a request once, as this machine does (``all`` leaves cburn and ctm
        out where Claude Code's own logs are read: those records go instead)."""
        if isinstance(source, HasMembers):
            counted = frozenset(n for n, instead in source.counted_whole.items() if not instead)
        else:
            counted = frozenset({source.name})
        if counted != self.counted:
            self.counted = counted
            self._wake.set()

    def _exports(self) -> list[RollupExport]:
        return [e for e in self.rollups if self.counted is None or e.source in self.counted]

    def close(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                more = self.send_once()
            except SendError as exc:
                if not exc.retry and self.batch_size > 1:  # 413: the hub takes smaller bodies
                    self.batch_size = max(1, self.batch_size // 2)
                self._failed(str(exc))
                failures += 1
                # full jitter: machines that lost the hub together do not return together
                cap = min(self.backoff_max_s, BACKOFF_FIRST_S * 2 ** min(failures - 1, 16))
                self._stop.wait(self._rng.uniform(0.1 * cap, cap))
                continue
            except Exception as exc:  # a history error: said, retried later, never fatal
                log.exception("team: reading the queue failed")
                self._failed(f"reading the queue failed: {exc}")
                self._stop.wait(self.backoff_max_s)
                continue
            if failures:
                log.info("team: the hub takes records again")
                failures = 0
                self.last_error = ""
            if not more:
                self._wake.wait(self.idle_s)
                self._wake.clear()

    def describe(self) -> str:
        """One line for people: where this machine reports and how it goes (never the token)."""
        where = f"{self.target.url} as {self.target.host}"
        try:
            waiting = self.outbox.pending()
            minutes = sum(export.owed() for export in self._exports())
        except Exception:  # the history's problem, said where the history is used
            waiting = minutes = -1
        backlog = f"{waiting} records waiting" if waiting >= 0 else "queue unreadable"
        if minutes > 0:  # per-minute rollups (hexai, cburn, ctm) not yet acknowledged
            backlog += f", {minutes} minutes"
        if self.last_error:
            return f"{where}: NOT REPORTING ({self.last_error}); {backlog}"
        return f"{where}: {self.sent} sent since start; {backlog}"

    def _failed(self, why: str) -> None:
        if why != self.last_error:  # once per distinct error, not once per retry
            log.error("team: cannot report to %s: %s", self.target.url, why)
        self.last_error = why

    def send_once(self) -> bool:
        """Send the oldest batch; True when more may be waiting. Raises SendError."""
        from burntray.runtime import team_wire as wire  # noqa: PLC0415

        last, queued = self.outbox.batch(self.batch_size)
        if not last:
            return self._send_minutes()
        if queued:
            body = wire.encode(
                (wire.Sent(q.source, q.record) for q in queued),
                self.target.host,
                self.target.user,
            )
            refused, why = post(self.target, body, self._ssl())
            if refused:
                self.refused += refused
                log.error(
                    "team: the hub refused %d of %d records (skipped, not resent): %s",
                    refused,
                    len(queued),
                    why or "no reason given",
                )
            self.sent += len(queued) - refused
        self.outbox.acknowledge(last)
        return True

    def _send_minutes(self) -> bool:
        """The per-minute rollups still owed (once the record queue is empty): True when a
        batch went. Raises SendError."""
        from burntray.runtime import team_wire as wire  # noqa: PLC0415

        for export in self._exports():
            minutes = export.pending(self.batch_size)
            if not minutes:
                continue
            body = wire.encode((), self.target.host, self.target.user, minutes)
            refused, why = post(self.target, body, self._ssl())
            if refused:
                self.refused += refused
                log.error(
                    "team: the hub refused %d of %d %s minutes (skipped, not resent): %s",
                    refused,
                    len(minutes),
                    export.source,
                    why or "no reason given",
                )
            self.sent += len(minutes) - refused
            export.acknowledge(minutes)
            return True
        return False


def rollup_exports(history: HistoryStore, specs: Iterable[SourceSpec]) -> tuple[RollupExport, ...]:
    """Each byte-counting source's minutes owed to the hub (its registry entry says how)."""
    return tuple(spec.team_rollups(history) for spec in specs if spec.team_rollups)


def build(
    history: HistoryStore | None, option: Callable[[str], Any], specs: Iterable[SourceSpec] = ()
) -> TeamSender | None:
    """The sender the ``team.*`` keys ask for, or None. A bad setting is logged (and the rest of
    burntray runs); without a history there is nothing durable to send from. ``specs``: the
    registry's entries (passed in: the registry imports every source, and one imports this)."""
    try:
        t = target(option)
    except TeamConfigError as exc:
        log.error("team: %s", exc)
        return None
    if t is None:
        return None
    if history is None:
        log.error("team: no history to send from: not reporting to %s", t.url)
        return None
    return TeamSender(history, t, rollups=rollup_exports(history, specs))
