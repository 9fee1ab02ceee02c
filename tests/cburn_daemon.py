"""A controllable stand-in for ``cburn daemon`` that speaks its exact wire format.

What it reproduces (``shared/spec/sources.md`` section 2 and cburn's ``internal/daemon``):

- ``GET /healthz`` -> ``ok\\n`` (text/plain; charset=utf-8), always ok, even when polls fail.
- ``/v1/status``, ``/v1/events`` (ring buffer, oldest first, ``[]`` when empty) and
  ``/v1/stream`` (SSE) with Go's encoding: fields in struct order, ``omitempty`` fields
  (``project_filter``, ``model_filter``, ``last_error``) left out when empty, times as
  RFC 3339 with nanoseconds and the daemon's *local offset* (``Z`` only for UTC, Go's zero time
  ``0001-01-01T00:00:00Z`` before the first poll), floats as Go writes them (``1e-7`` below
  1e-6: Go's encoder strips the exponent's leading zero), HTML characters escaped, and a
  trailing newline after each encoded value.
- The stream: a greeting ``event: snapshot`` with id 0 and the current summary on connect, then
  one message per published event; exactly ``event:`` + ``data:`` lines and a blank line; no
  ``id:``/``retry:`` lines, no comments, no heartbeats. Each subscriber has a 16-slot buffer and
  events that do not fit are dropped silently.
- ``poll()`` mirrors ``pollOnce``: the first poll publishes ``snapshot`` id 1, later polls
  publish ``usage_delta`` only when a counter changed (a change in cache hit rate or per-day
  figures publishes nothing); a failed poll publishes nothing and sets ``last_error``.
- Exact paths, any HTTP method, Go's 404 (``404 page not found``) for anything else, including
  a trailing slash.

Controls for tests: ``override(path, ...)`` to answer a path with anything (HTML, 404...),
``inject_raw(bytes)`` to write raw bytes to every stream, ``stop()`` to drop everything at once.
Run as a script (``python tests/cburn_daemon.py --port N``) it reads JSON commands on stdin, so
a test can SIGKILL a real process and start another on the same port.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import queue
import re
import select
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from burntray.model.timefmt import format_rfc3339_ns  # noqa: E402

GO_ZERO_TIME = "0001-01-01T00:00:00Z"
SUBSCRIBER_BUFFER = 16
DEFAULT_TZ = dt.timezone(dt.timedelta(hours=-5))  # a local offset, as the daemon writes times


# --- Go encoding/json ------------------------------------------------------------------------
def go_float(value: float) -> str:
    """``strconv.AppendFloat`` as encoding/json calls it: shortest digits, 'f' form unless
    |x| < 1e-6 or >= 1e21, and then 'e' form with ``e-07`` cleaned up to ``e-7``."""
    if value == 0:
        return "-0" if str(value).startswith("-") else "0"
    text = repr(float(value))
    if "e" not in text and abs(value) >= 1e-6:  # the common case, fast: repr is shortest too
        return text.removesuffix(".0")
    if 1e-6 <= abs(value) < 1e21:
        fixed = format(Decimal(text), "f")
        return fixed.rstrip("0").rstrip(".") if "." in fixed else fixed
    mantissa, _, exponent = format(Decimal(text), "e").partition("e")
    mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
    sign, digits = exponent[0], exponent[1:].lstrip("0") or "0"
    if len(digits) < 2 and sign == "+":
        digits = digits.rjust(2, "0")  # Go pads the exponent to two digits; it strips only e-0X
    return f"{mantissa}e{sign}{digits}"


_PLAIN = re.compile(r'[^"\\\x00-\x1f<>&\u2028\u2029]*')


def _go_string(text: str) -> str:
    if _PLAIN.fullmatch(text):
        return f'"{text}"'
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or ch in "<>&\u2028\u2029":  # Go escapes HTML by default
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_json(value: Any) -> str:
    """Compact JSON exactly as Go's encoding/json writes these value types."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return _go_string(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_go_string(k)}:{go_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    raise TypeError(f"no Go encoding for {type(value).__name__}")


def go_time(ns: int | None, tz: dt.tzinfo = DEFAULT_TZ) -> str:
    return GO_ZERO_TIME if ns is None else format_rfc3339_ns(ns, tz)


# --- the daemon's state ------------------------------------------------------------------------
COUNTERS = ("sessions", "prompts", "api_calls", "tokens", "estimated_cost_usd")


class CburnTestDaemon:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        days: int = 30,
        data_dir: str = "/home/u/.claude",
        project_filter: str = "",
        model_filter: str = "",
        interval_sec: int = 15,
        events_buffer: int = 200,
        tz: dt.tzinfo = DEFAULT_TZ,
    ) -> None:
        self.tz = tz
        self.days = days
        self.data_dir = data_dir
        self.project_filter = project_filter
        self.model_filter = model_filter
        self.interval_sec = 10 if interval_sec < 2 else interval_sec  # cburn's coercion
        self.events_buffer = events_buffer if events_buffer >= 1 else 200
        self.started_at_ns = time.time_ns()
        self.lock = threading.Lock()
        self.snapshot: dict[str, Any] | None = None
        self.last_poll_at_ns: int | None = None
        self.poll_count = 0
        self.last_error = ""
        self.next_id = 0
        self.events: deque[dict[str, Any]] = deque(maxlen=self.events_buffer)
        self.subscribers: list[queue.Queue[bytes]] = []
        self.subscriptions = 0  # streams ever opened (a reconnect makes it grow)
        self.overrides: dict[str, tuple[int, str, bytes]] = {}
        self.hits: dict[str, int] = {}
        self._connections: set[socket.socket] = set()
        self._stopped = threading.Event()
        self.server = _Server((host, port), _Handler)
        self.server.daemon = self
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> CburnTestDaemon:
        self._thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), name="cburn-test-daemon", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Like a killed process: the listener and every connection go away at once."""
        self._stopped.set()
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> CburnTestDaemon:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # what the daemon would compute
    def _snapshot_dict(self, snap: dict[str, Any] | None) -> dict[str, Any]:
        snap = snap or {}
        return {
            "at": go_time(snap.get("at_ns"), self.tz),
            "sessions": int(snap.get("sessions", 0)),
            "prompts": int(snap.get("prompts", 0)),
            "api_calls": int(snap.get("api_calls", 0)),
            "tokens": int(snap.get("tokens", 0)),
            "estimated_cost_usd": float(snap.get("estimated_cost_usd", 0.0)),
            "cache_hit_rate": float(snap.get("cache_hit_rate", 0.0)),
            "cost_per_day_usd": float(snap.get("cost_per_day_usd", 0.0)),
            "tokens_per_day": int(snap.get("tokens_per_day", 0)),
            "sessions_per_day": float(snap.get("sessions_per_day", 0.0)),
        }

    def poll(
        self, at_ns: int | None = None, block: bool = False, **figures: float
    ) -> dict[str, Any] | None:
        """One successful poll with these cumulative figures; returns the published event.

        ``block``: wait for room in each subscriber's buffer instead of dropping (benchmarks
        use it to measure how fast a client reads, not how fast this Python daemon switches
        threads)."""
        now = at_ns if at_ns is not None else time.time_ns()
        snap = {"at_ns": now, **figures}
        with self.lock:
            prev = self.snapshot
            self.snapshot = snap
            self.last_poll_at_ns = now
            self.poll_count += 1
            self.last_error = ""
            if prev is None:
                kind = "snapshot"
                delta = dict.fromkeys(COUNTERS, 0)
                delta["estimated_cost_usd"] = 0.0
            else:
                before, after = self._snapshot_dict(prev), self._snapshot_dict(snap)
                delta = {k: after[k] - before[k] for k in COUNTERS}
                if not any(delta.values()):
                    return None
                kind = "usage_delta"
            self.next_id += 1
            event = {
                "id": self.next_id,
                "type": kind,
                "timestamp": go_time(now, self.tz),
                "snapshot": self._snapshot_dict(snap),
                "delta": {**delta, "estimated_cost_usd": float(delta["estimated_cost_usd"])},
            }
            self.events.append(event)
            frame = sse_frame(event)
            subscribers = list(self.subscribers)
        for sub in subscribers:
            with contextlib.suppress(queue.Full):  # Go's non-blocking send: dropped
                if block:
                    sub.put(frame, timeout=5)
                else:
                    sub.put_nowait(frame)
        return event

    def poll_error(self, message: str) -> None:
        with self.lock:
            self.last_error = message
            self.last_poll_at_ns = time.time_ns()
            self.poll_count += 1

    def inject_raw(self, data: bytes) -> None:
        with self.lock:
            for sub in self.subscribers:
                sub.put(data)

    def override(self, path: str, status: int, content_type: str, body: bytes) -> None:
        self.overrides[path] = (status, content_type, body)

    def status_dict(self) -> dict[str, Any]:
        with self.lock:
            out: dict[str, Any] = {
                "started_at": go_time(self.started_at_ns, self.tz),
                "last_poll_at": go_time(self.last_poll_at_ns, self.tz),
                "poll_interval_sec": self.interval_sec,
                "poll_count": self.poll_count,
                "data_dir": self.data_dir,
                "days": self.days,
            }
            if self.project_filter:
                out["project_filter"] = self.project_filter
            if self.model_filter:
                out["model_filter"] = self.model_filter
            out["summary"] = self._snapshot_dict(self.snapshot)
            if self.last_error:
                out["last_error"] = self.last_error
            out["event_count"] = len(self.events)
            out["subscriber_count"] = len(self.subscribers)
        return out

    def subscriber_count(self) -> int:
        with self.lock:
            return len(self.subscribers)


def sse_frame(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {go_json(event)}\n\n".encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    daemon: CburnTestDaemon


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # Go sets TCP_NODELAY on every connection; without it Nagle + delayed ACKs hold small
        # SSE writes for up to 40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.daemon.lock:
            self.server.daemon._connections.add(self.connection)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        with self.server.daemon.lock:
            self.server.daemon._connections.discard(self.connection)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # Go's mux has no method restriction
            return self._serve
        raise AttributeError(name)

    def _send(
        self, status: int, content_type: str, body: bytes, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _serve(self) -> None:
        daemon = self.server.daemon
        path = self.path.split("?", 1)[0]
        daemon.hits[path] = daemon.hits.get(path, 0) + 1
        if path in daemon.overrides:
            status, content_type, body = daemon.overrides[path]
            if content_type == "hang":  # accept the request, never answer it
                daemon._stopped.wait()
                return
            self._send(status, content_type, body)
            return
        if path == "/healthz":
            self._send(200, "text/plain; charset=utf-8", b"ok\n")
        elif path == "/v1/status":
            self._send(200, "application/json", (go_json(daemon.status_dict()) + "\n").encode())
        elif path == "/v1/events":
            with daemon.lock:
                events = list(daemon.events)
            self._send(200, "application/json", (go_json(events) + "\n").encode())
        elif path == "/v1/stream":
            self._stream()
        else:
            self._send(
                404,
                "text/plain; charset=utf-8",
                b"404 page not found\n",
                {"X-Content-Type-Options": "nosniff"},
            )

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _client_gone(self) -> bool:
        # Go's handler sees r.Context().Done() when the client hangs up; this is our version
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _stream(self) -> None:
        daemon = self.server.daemon
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "keep-alive")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sub: queue.Queue[bytes] = queue.Queue(SUBSCRIBER_BUFFER)
        with daemon.lock:
            daemon.subscribers.append(sub)
            daemon.subscriptions += 1
        try:
            greeting = {
                "id": 0,
                "type": "snapshot",
                "timestamp": go_time(time.time_ns(), daemon.tz),
                "snapshot": daemon.status_dict()["summary"],
                "delta": {
                    "sessions": 0,
                    "prompts": 0,
                    "api_calls": 0,
                    "tokens": 0,
                    "estimated_cost_usd": 0.0,
                },
            }
            self._write_chunk(sse_frame(greeting))
            while not daemon._stopped.is_set():
                try:
                    frame = sub.get(timeout=0.05)
                except queue.Empty:
                    if self._client_gone():
                        return
                    continue
                # whatever else is queued goes out in the same write, as Go's buffered writer
                # would send events published while the handler was busy
                while len(frame) < 65536:
                    try:
                        frame += sub.get_nowait()
                    except queue.Empty:
                        break
                self._write_chunk(frame)
        except OSError:
            pass  # the client went away
        finally:
            with daemon.lock:
                daemon.subscribers.remove(sub)
            self.close_connection = True


class SilentAcceptor:
    """A server that accepts connections and never says a word."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="silent-acceptor", daemon=True)

    def _run(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)

    def __enter__(self) -> SilentAcceptor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- as a separate process -------------------------------------------------------------------
class DaemonProcess:
    """The test daemon in its own process, driven by JSON commands on its stdin."""

    def __init__(self, port: int = 0, **options: Any) -> None:
        args = [sys.executable, str(Path(__file__).resolve()), "--port", str(port)]
        for key, value in options.items():
            args += [f"--{key.replace('_', '-')}", str(value)]
        self.proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("ready "):
            self.proc.kill()
            raise RuntimeError(f"test daemon did not start: {line!r}")
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def send(self, **command: Any) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(5)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def __enter__(self) -> DaemonProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.kill()


def _serve_commands(daemon: CburnTestDaemon) -> None:
    print(f"ready {daemon.port}", flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        op = command.pop("op")
        if op == "poll":
            daemon.poll(**command)
        elif op == "flood":
            # n polls, each with at_ns = its publish time (latency is measured from it):
            # every pace_s seconds, or at rate events/s, or as fast as possible
            started, rate = time.monotonic(), float(command.get("rate", 0))
            for i in range(int(command["n"])):
                if command.get("pace_s"):
                    time.sleep(command["pace_s"])
                elif rate and (ahead := started + i / rate - time.monotonic()) > 0.001:
                    time.sleep(ahead)
                daemon.poll(
                    block=bool(command.get("block", False)),
                    api_calls=command.get("base", 0) + i + 1,
                    tokens=i + 1,
                    estimated_cost_usd=(i + 1) * 0.001,
                )
        elif op == "wait_subscribers":
            deadline = time.monotonic() + float(command.get("timeout", 10))
            while daemon.subscriber_count() != int(command["n"]) and time.monotonic() < deadline:
                time.sleep(0.005)
        elif op == "poll_error":
            daemon.poll_error(command["message"])
        elif op == "hits":
            print(json.dumps(daemon.hits), flush=True)
            continue
        print("ok", flush=True)
    daemon.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--interval-sec", type=int, default=15)
    parser.add_argument("--events-buffer", type=int, default=200)
    args = parser.parse_args()
    daemon = CburnTestDaemon(
        port=args.port,
        days=args.days,
        interval_sec=args.interval_sec,
        events_buffer=args.events_buffer,
    ).start()
    try:
        _serve_commands(daemon)
    finally:
        os._exit(0)


if __name__ == "__main__":
    main()
