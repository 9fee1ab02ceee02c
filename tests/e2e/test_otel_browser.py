"""A web page in real headless Chromium cannot write to the OTLP receiver.

A page served from another localhost port posts a real Claude Code export (made by the official
SDK) with ``fetch(..., {mode: "no-cors"})``: the "simple request" a page may send anywhere
without asking. It must add nothing. The same page's CORS request to a receiver that lists the
page's origin goes through (preflight, then the POST), which shows the page did reach the
receivers and that only the policy tells the two apart.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from burntray.model.pricing import build_price_table
from burntray.sources.otel.ledger import OtelLedger
from tests.e2e.test_report_chromium import run_chromium
from tests.otel_senders import page_claude_body, receiving

pytestmark = pytest.mark.slow

PAGE = """<!doctype html><html><body><script>
const body = new Uint8Array(%(bytes)s);
const attacks = [
  {method: "POST", mode: "no-cors", body: body},
  {method: "POST", mode: "no-cors", body: body, headers: {"Content-Type": "text/plain"}},
  {method: "POST", mode: "no-cors", body: new Blob([body])},
];
async function run() {
  const done = [];
  for (const init of attacks) {
    try { await fetch(%(victim)s, init); done.push("sent"); }
    catch (e) { done.push("failed"); }
  }
  try {
    const r = await fetch(%(allowed)s, {method: "POST", mode: "cors", body: body,
                                       headers: {"Content-Type": "application/x-protobuf"}});
    done.push("cors " + r.status);
  } catch (e) { done.push("cors failed " + e); }
  document.body.setAttribute("data-done", done.join(","));
}
run();
</script></body></html>"""


@pytest.fixture(scope="module")
def claude_body() -> bytes:
    return page_claude_body()


class _Page(BaseHTTPRequestHandler):
    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def page_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_a_no_cors_page_adds_nothing(
    tmp_path: Path, page_server: ThreadingHTTPServer, claude_body: bytes
) -> None:
    page_origin = f"http://127.0.0.1:{page_server.server_address[1]}"
    victim_ledger = OtelLedger(build_price_table({}), grace_ns=0)
    allowed_ledger = OtelLedger(build_price_table({}), grace_ns=0)
    with (
        receiving(victim_ledger.on_export) as victim,
        receiving(allowed_ledger.on_export, cors_origins=page_origin) as allowed,
    ):
        _Page.page = (
            PAGE
            % {
                "bytes": json.dumps(list(claude_body)),
                "victim": json.dumps(f"http://127.0.0.1:{victim.port}/v1/logs"),
                "allowed": json.dumps(f"http://127.0.0.1:{allowed.port}/v1/logs"),
            }
        ).encode()
        result = run_chromium(
            tmp_path, "--virtual-time-budget=15000", "--dump-dom", f"{page_origin}/"
        )
        dom = result.stdout
        assert 'data-done="sent,sent,sent,' in dom, (dom[-2000:], result.stderr[-2000:])
        assert victim_ledger.take(2**62) == []  # nothing added, not $123.45
        assert victim.stats.accepted == 0
        assert sum(victim.stats.rejected.values()) == 3, victim.stats.rejected
        assert 'data-done="sent,sent,sent,cors 200"' in dom
        assert [r.key for r in allowed_ledger.take(2**62)] == ["claude-code:req:from-a-page"]
