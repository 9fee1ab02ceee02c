"""A machine's sender against a real hub receiver (the OTLP receiver of ``OtelSource`` with its
own history) on 127.0.0.1: records arrive once whatever is resent, a changed record replaces
the one the hub holds, and each way a hub can refuse (token, plain http to TLS, an untrusted
certificate, a partial success) is a clear error that loses or repeats nothing."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from burntray.model.pricing import build_price_table
from burntray.model.usage import UsageRecord
from burntray.runtime import team_wire
from burntray.runtime.team_sender import SendError, Target, TeamConfigError, TeamSender, target
from burntray.sources.hub import ingest as hub_ingest
from burntray.sources.otel.source import OtelSource
from burntray.sources.registry import REGISTRY
from burntray.store.history import HistoryStore
from burntray.store.team import TeamOutbox, by_host
from burntray.store.usage_events import UsageEvents
from tests.processes import wait_for

T0 = 1_780_000_000 * 10**9
TOKEN = "s3cret-team-token"


def records(n: int, start: int = 0) -> list[UsageRecord]:
    return [
        UsageRecord(T0 + i * 10**9, "anthropic", "claude-sonnet-4-5", 10 + i, 20, 30, 40,
                    0.001 * (i % 7) if i % 5 else None, f"k{i}", session="s", project="p")
        for i in range(start, start + n)
    ]  # fmt: skip


@pytest.fixture
def cert(tmp_path: Path) -> tuple[str, str]:
    openssl = shutil.which("openssl")
    assert openssl is not None, "openssl is needed to make a test certificate"
    crt, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(crt)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return str(crt), str(key)


class Hub:
    def __init__(self, path: Path, token: str = "", tls: tuple[str, str] | None = None) -> None:
        self.history = HistoryStore(path, REGISTRY.history_tables())
        options = {"tls_cert": tls[0], "tls_key": tls[1]} if tls else {}
        self.source = OtelSource(
            "127.0.0.1:0",
            build_price_table({}),
            self.history,
            token=token,
            receiver_options=options,
        )
        self.source.start(lambda: None)
        assert self.source.receiver is not None
        self.port = self.source.receiver.port

    def totals(self) -> dict[str, tuple[int, int, float]]:
        rows = by_host(self.history, hub_ingest.SOURCE, 0, 2**62)
        return {r.host: (r.reqs, r.input + r.output + r.cache_read + r.cache_write, r.cost)
                for r in rows}  # fmt: skip

    def close(self) -> None:
        self.source.close()
        self.history.close()


class Machine:
    def __init__(self, path: Path, url: str, host: str = "alpha", **kw: str) -> None:
        self.history = HistoryStore(path, REGISTRY.history_tables())
        self.events = UsageEvents(self.history)
        self.sender = TeamSender(
            self.history,
            Target(url, host, "ana", kw.get("token", ""), kw.get("ca_file", "")),
            batch=kw.get("batch", 1000),  # type: ignore[arg-type]
        )
        self.sender.outbox.enable()

    def drain(self) -> None:
        for _ in range(1000):
            if not self.sender.send_once():
                return
        raise AssertionError("the queue never emptied")

    def own(self) -> tuple[int, int, float]:
        got = self.events.records("claude", 0, 2**62)
        return (len(got), sum(r.tokens for r in got), sum(r.cost_usd or 0.0 for r in got))

    def close(self) -> None:
        self.history.close()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    h = Hub(tmp_path / "hub.sqlite3", token=TOKEN)
    yield h
    h.close()


def _same(a: tuple[int, int, float], b: tuple[int, int, float]) -> bool:
    return a[0] == b[0] and a[1] == b[1] and abs(a[2] - b[2]) < 1e-9


def test_records_arrive_once_whatever_is_resent_and_changes_replace(
    hub: Hub, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{hub.port}/v1/logs"
    m = Machine(tmp_path / "m.sqlite3", url, token=TOKEN, batch=700)  # type: ignore[arg-type]
    m.events.ingest("claude", records(2500))
    m.drain()
    assert _same(hub.totals()["alpha"], m.own())
    assert m.sender.outbox.pending() == 0 and m.sender.outbox.cursor() > 0
    # a batch sent again (a crash before the acknowledgement was written) changes nothing
    body = team_wire.encode((team_wire.Sent("claude", r) for r in records(700)), "alpha", "ana")
    from burntray.runtime.team_sender import post

    assert post(m.sender.target, body, None) == (0, "")
    assert _same(hub.totals()["alpha"], m.own())
    # a record that changed (a streamed reply's final line) is queued again and replaces
    changed = records(1)[0]._replace(output_tokens=5000)
    m.events.ingest("claude", [changed])
    assert m.sender.outbox.pending() == 1
    m.drain()
    assert _same(hub.totals()["alpha"], m.own())
    assert hub.totals()["alpha"][0] == 2500
    m.close()


def test_records_kept_before_the_first_start_are_queued_once(tmp_path: Path) -> None:
    history = HistoryStore(tmp_path / "m.sqlite3", REGISTRY.history_tables())
    events = UsageEvents(history)
    events.ingest("claude", records(10))
    assert TeamOutbox(history).pending() == 0  # not reporting: nothing is queued
    outbox = TeamOutbox(history)
    assert outbox.enable() == 10
    assert outbox.enable() == 0  # a second start queues nothing again
    events.ingest("claude", records(5, start=10))
    assert outbox.pending() == 15
    history.close()


def test_a_wrong_token_is_said_and_nothing_is_accepted_or_lost(
    hub: Hub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{hub.port}"
    m = Machine(tmp_path / "m.sqlite3", url + "/v1/logs", token="wrong-token")
    m.events.ingest("claude", records(20))
    with pytest.raises(SendError, match=r"refused the token \(HTTP 401\): check team.token"):
        m.sender.send_once()
    assert hub.totals() == {}
    assert m.sender.outbox.pending() == 20  # kept for when the token is fixed
    m.close()


def test_plain_http_to_a_tls_hub_and_an_untrusted_certificate_are_said(
    tmp_path: Path, cert: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    hub = Hub(tmp_path / "hub.sqlite3", token=TOKEN, tls=cert)
    try:
        plain = Machine(tmp_path / "a.sqlite3", f"http://127.0.0.1:{hub.port}/v1/logs",
                        token=TOKEN)  # fmt: skip
        plain.events.ingest("claude", records(3))
        with pytest.raises(SendError, match="https"):
            plain.sender.send_once()
        untrusted = Machine(tmp_path / "b.sqlite3", f"https://127.0.0.1:{hub.port}/v1/logs",
                            token=TOKEN)  # fmt: skip
        untrusted.events.ingest("claude", records(3))
        with pytest.raises(SendError, match=r"certificate is not trusted.*team\.ca_file"):
            untrusted.sender.send_once()
        assert hub.totals() == {}
        assert plain.sender.outbox.pending() == untrusted.sender.outbox.pending() == 3
        # with the CA given, the same machine reports
        trusted = Machine(tmp_path / "b.sqlite3", f"https://127.0.0.1:{hub.port}/v1/logs",
                          token=TOKEN, ca_file=cert[0])  # fmt: skip
        trusted.drain()
        assert _same(hub.totals()["alpha"], trusted.own())
        for m in (plain, untrusted, trusted):
            m.close()
    finally:
        hub.close()


def test_a_partial_success_is_logged_and_skipped_never_resent(
    hub: Hub, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_ingest, "MAX_HOSTS", 1)
    url = f"http://127.0.0.1:{hub.port}/v1/logs"
    first = Machine(tmp_path / "a.sqlite3", url, "alpha", token=TOKEN)
    first.events.ingest("claude", records(4))
    first.drain()
    second = Machine(tmp_path / "b.sqlite3", url, "beta", token=TOKEN)
    second.events.ingest("claude", records(6))
    with caplog.at_level(logging.ERROR, logger="burntray.runtime.team_sender"):
        assert second.sender.send_once()  # acknowledged: the refused records are skipped
        assert not second.sender.send_once()  # nothing left to send: no loop
    assert second.sender.refused == 6 and second.sender.outbox.pending() == 0
    assert "the hub refused 6 of 6 records" in caplog.text
    assert "at most 1 hosts" in caplog.text
    assert set(hub.totals()) == {"alpha"}
    first.close()
    second.close()


def test_the_token_never_reaches_the_log(
    hub: Hub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    m = Machine(tmp_path / "m.sqlite3", f"http://127.0.0.1:{hub.port}/v1/logs",
                token="wrong-but-secret-token")  # fmt: skip
    m.events.ingest("claude", records(2))
    m.sender.idle_s = 0.05
    m.sender.backoff_max_s = 0.1
    with caplog.at_level(logging.DEBUG):
        m.sender.start()
        try:
            wait_for(lambda: m.sender.last_error, 10, "the sender to meet the refusal")
        finally:
            m.sender.close()
    assert "refused the token" in caplog.text
    assert "wrong-but-secret-token" not in caplog.text
    m.close()


def _options(**values: object) -> object:
    defaults = {"team.hub": "", "team.token": "", "team.allow_insecure": False,
                "team.host": "", "team.user": "", "team.ca_file": ""}  # fmt: skip
    defaults.update(values)
    return defaults.__getitem__


def test_plain_http_beyond_loopback_is_refused_unless_allowed() -> None:
    with pytest.raises(TeamConfigError, match="refusing plain http://"):
        target(_options(**{"team.hub": "http://hub.example:4318"}), {})  # type: ignore[arg-type]
    allowed = target(
        _options(**{"team.hub": "http://hub.example:4318", "team.allow_insecure": True}),  # type: ignore[arg-type]
        {},
    )
    assert allowed is not None and allowed.url == "http://hub.example:4318/v1/logs"
    local = target(_options(**{"team.hub": "http://127.0.0.1:4318"}), {})  # type: ignore[arg-type]
    assert local is not None
    assert target(_options(), {}) is None  # type: ignore[arg-type]


def test_names_come_from_config_then_otel_resource_attributes_then_the_os() -> None:
    env = {"OTEL_RESOURCE_ATTRIBUTES": "host.name=build%20box,user.name=ci,team=x"}
    hub = {"team.hub": "https://hub.example"}
    got = target(_options(**hub), env)  # type: ignore[arg-type]
    assert got is not None and (got.host, got.user) == ("build box", "ci")
    got = target(_options(**hub, **{"team.host": "laptop", "team.user": "ana"}), env)  # type: ignore[arg-type]
    assert got is not None and (got.host, got.user) == ("laptop", "ana")
    got = target(_options(**hub), {})  # type: ignore[arg-type]
    assert got is not None and got.host  # the OS's host name


def test_the_config_keys_are_validated_with_named_errors() -> None:
    from burntray.sources.hub import parse_hub, parse_token

    assert parse_hub("https://hub.example:4318/") == "https://hub.example:4318"
    for bad in ("hub.example", "ftp://hub", "https://u:p@hub", "https://hub:99999", "https://h/?a"):
        with pytest.raises(ValueError):
            parse_hub(bad)
    with pytest.raises(ValueError, match="printable ASCII"):
        parse_token("has space")


def test_a_tray_following_the_hub_shows_a_line_per_host(hub: Hub, tmp_path: Path) -> None:
    from burntray.sources.hub.source import HubSource

    url = f"http://127.0.0.1:{hub.port}/v1/logs"
    now = T0 + 3600 * 10**9
    for name, n in (("alpha", 3), ("beta", 7)):
        m = Machine(tmp_path / f"{name}.sqlite3", url, name, token=TOKEN)
        m.events.ingest("claude", records(n))
        m.drain()
        m.close()
    source = HubSource(hub.history, clock_ns=lambda: now)
    assert source.poll() is not None
    lines = [(f.label, f.value) for f in source.facts()]
    assert [label for label, _ in lines] == ["beta (ana)", "alpha (ana)"]  # busiest first
    assert lines[0][1].startswith("7 reqs")
    snap = source.snapshot(2 * 3600 * 10**9, now)
    assert snap.totals.reqs == 10
    assert len(source.records(0, 2**62)) == 10


def test_a_hub_beyond_loopback_without_tls_refuses_team_records(tmp_path: Path) -> None:
    history = HistoryStore(tmp_path / "hub.sqlite3", REGISTRY.history_tables())
    source = OtelSource("0.0.0.0:0", build_price_table({}), history, token=TOKEN)
    source.start(lambda: None)
    try:
        assert source.receiver is not None
        m = Machine(tmp_path / "m.sqlite3", f"http://127.0.0.1:{source.receiver.port}/v1/logs",
                    token=TOKEN)  # fmt: skip
        m.events.ingest("claude", records(3))
        with pytest.raises(SendError, match=r"HTTP 403: .* only over TLS"):
            m.sender.send_once()
        assert by_host(history, hub_ingest.SOURCE, 0, 2**62) == []
        assert m.sender.outbox.pending() == 3
        m.close()
    finally:
        source.close()
        history.close()


def test_a_body_too_large_for_the_hub_is_sent_again_in_smaller_batches(tmp_path: Path) -> None:
    history = HistoryStore(tmp_path / "hub.sqlite3", REGISTRY.history_tables())
    source = OtelSource("127.0.0.1:0", build_price_table({}), history,
                        receiver_options={"max_body": 40_000})  # fmt: skip
    source.start(lambda: None)
    try:
        assert source.receiver is not None
        m = Machine(tmp_path / "m.sqlite3", f"http://127.0.0.1:{source.receiver.port}/v1/logs")
        m.events.ingest("claude", records(1500))
        m.sender.backoff_max_s = 0.05
        m.sender.start()
        try:
            wait_for(lambda: m.sender.outbox.pending() == 0, 30, "the queue to drain")
        finally:
            m.sender.close()
        assert m.sender.batch_size < 1000
        rows = by_host(history, hub_ingest.SOURCE, 0, 2**62)
        assert [(r.host, r.reqs) for r in rows] == [("alpha", 1500)]
        m.close()
    finally:
        source.close()
        history.close()


def test_doctor_says_where_this_machine_reports_but_never_the_token(isolated_env: Path) -> None:
    import os
    import sys

    config = isolated_env / "burntray" / "config"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(
        '[team]\nhub = "https://hub.example:4318"\ntoken = "tok-SECRET-42"\nhost = "lap"\n'
    )
    config.joinpath("config.toml").chmod(0o600)
    out = subprocess.run(
        [sys.executable, "-m", "burntray", "doctor"],
        capture_output=True, text=True, timeout=60, check=False, env=dict(os.environ),
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert "reporting    to https://hub.example:4318/v1/logs as host lap" in out.stdout
    assert "token        set" in out.stdout
    assert "tok-SECRET-42" not in out.stdout + out.stderr
    (config / "config.toml").write_text('[team]\nhub = "http://hub.example:4318"\n')
    out = subprocess.run(
        [sys.executable, "-m", "burntray", "doctor"],
        capture_output=True, text=True, timeout=60, check=False, env=dict(os.environ),
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert "reporting    REFUSED: team.hub http://hub.example:4318: refusing plain http://" in (
        out.stdout
    )


def test_turning_reporting_off_stops_the_queue_and_on_again_queues_everything(
    tmp_path: Path,
) -> None:
    history = HistoryStore(tmp_path / "m.sqlite3", REGISTRY.history_tables())
    events = UsageEvents(history)
    outbox = TeamOutbox(history)
    events.ingest("claude", records(4))
    assert outbox.enable() == 4
    assert outbox.disable() is True
    events.ingest("claude", records(3, start=4))
    assert outbox.pending() == 0  # nothing queued for nobody
    assert outbox.disable() is False
    assert outbox.enable() == 7  # on again: every record kept, the hub dedups by id
    history.close()


def test_a_session_without_a_hub_drops_a_stale_queue(tmp_path: Path) -> None:
    from burntray.app import AppContext
    from burntray.runtime.session import Session

    ctx = AppContext.load()
    history = ctx.history()
    assert history is not None
    UsageEvents(history).ingest("claude", records(2))
    TeamOutbox(history).enable()
    session = Session(ctx, view="test")
    try:
        assert session.team is None
        assert TeamOutbox(history).pending() == 0
        assert not history.execute("SELECT 1 FROM team_cursor")
    finally:
        session.close()
