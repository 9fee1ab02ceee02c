"""`burntray serve`'s command line: bad addresses are usage errors; a busy /metrics port is a
clear failure, not a traceback."""

from __future__ import annotations

import contextlib
import io
import socket
from pathlib import Path

from burntray.cli import main


def run(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(args))
    return code, err.getvalue()


def test_bad_addresses_are_usage_errors() -> None:
    code, err = run("serve", "--otlp", "nowhere")
    assert code == 2
    assert "--otlp = 'nowhere' is not allowed: expected HOST:PORT" in err
    code, err = run("serve", "--metrics", "127.0.0.1:99999")
    assert code == 2
    assert "--metrics: expected HOST:PORT such as 127.0.0.1:9464" in err


def test_a_busy_metrics_port_fails_clearly() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        code, err = run("serve", "--source", "hexai", "--metrics", f"127.0.0.1:{port}")
    assert code == 1
    assert f"cannot serve /metrics on 127.0.0.1:{port}: Address already in use" in err
    assert "Traceback" not in err


def test_a_receiver_beyond_loopback_without_a_token_fails_at_start() -> None:
    code, err = run("serve", "--otlp", "0.0.0.0:4318")
    assert code == 2
    assert "refusing to receive OTLP on 0.0.0.0:4318" in err
    assert "otel.token" in err
    assert "Traceback" not in err


def test_unusable_tls_files_fail_at_start(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.pem")
    code, err = run("serve", "--source", "hexai", "--tls-cert", missing, "--tls-key", missing)
    assert code == 2
    assert f"cannot serve /metrics: TLS: {missing}: no such file" in err
    code, err = run("serve", "--source", "hexai", "--tls-cert", missing)
    assert code == 2
    assert "TLS needs both a certificate and its key" in err
