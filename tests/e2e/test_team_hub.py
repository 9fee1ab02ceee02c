"""Many machines, one hub (issue 25), end to end: real ``burntray serve`` processes on loopback,
each machine in its own home with its own Claude Code logs, its own hexai cache (written by the
hexai writer, as hexai writes it) and its own host name, reporting to a hub (``burntray serve
--otlp``) in a home of its own. The hub's figures must equal the sum of what each machine's own
``status`` says, per host and in total, exactly - also after the hub was killed mid-stream and
after a machine was killed mid-batch."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from burntray.sources.hexai.writer import hexai_update
from tests.agent_logs_support import claude_line, generate_claude_logs
from tests.cburn_daemon import free_port
from tests.e2e.test_serve_prometheus import promql, running
from tests.processes import require_tool, stop_process, wait_for

pytestmark = pytest.mark.slow

WINDOW = "14d"  # the generator spreads turns over the 10 days before now
FIGURES = ("reqs", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
# what a machine's hexai and the hub's total say of hexai's bytes (tokens estimated from them)
BYTE_FIGURES = ("reqs", "sent", "recv", "tokens_est")


class Home:
    """One machine's (or the hub's) own HOME, XDG dirs and burntray dirs."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root / name
        self.name = name
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("CLAUDE_CONFIG_DIR", "OTEL_RESOURCE_ATTRIBUTES", "CODEX_HOME")
        }
        for sub in ("home", "burntray/config", "xdg-cache", "xdg-config", "xdg-data"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.env.update(
            HOME=str(self.root / "home"),
            BURNTRAY_HOME=str(self.root / "burntray"),
            XDG_CACHE_HOME=str(self.root / "xdg-cache"),
            XDG_CONFIG_HOME=str(self.root / "xdg-config"),
            XDG_DATA_HOME=str(self.root / "xdg-data"),
            CLAUDE_CONFIG_DIR=str(self.root / "claude"),
        )
        self.log = self.root / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def config(self, text: str) -> None:
        (self.root / "burntray/config/config.toml").write_text(text, encoding="utf-8")

    def burntray(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "burntray", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    def serve(self, *args: str, metrics_port: int = 0) -> None:
        log = self.log.open("a")
        metrics = f"127.0.0.1:{metrics_port or free_port()}"
        self.metrics_url = f"http://{metrics}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "burntray", "serve", "--metrics", metrics, *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop_process(self.proc, 5)

    def status(self, source: str, figures: tuple[str, ...] = FIGURES) -> dict[str, float]:
        done = self.burntray("status", "--source", source, "--window", WINDOW, "--format", "json")
        assert done.returncode in (0, 1), done.stderr
        totals = json.loads(done.stdout)["totals"]
        return {k: totals[k] for k in (*figures, "cost_usd")}

    def hexai(self, n: int, tag: int) -> None:
        """``n`` hexai requests in the last minutes, written as hexai writes its cache (bytes
        chosen so that each machine's bytes / 4 rounds on its own)."""
        folder = Path(self.env["XDG_CACHE_HOME"]) / "hexai"
        start = time.time_ns() - 5 * 60 * 10**9
        for i in range(n):
            at = start + i * 997_000_000
            model = ("gpt-4.1-mini", "gpt-4.1", "no-such-model")[i % 3]
            hexai_update(folder, "openai", model, 1001 + 7 * i + tag, 3 + 5 * i,
                         clock_ns=lambda at=at: at)  # fmt: skip


def more_usage(home: Home, tag: str, turns: int) -> None:
    """``turns`` new requests (ids of their own) in a new session of ``home``'s Claude Code."""
    folder = Path(home.env["CLAUDE_CONFIG_DIR"]) / "projects" / f"-work-{tag}"
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    lines = []
    for n in range(turns):
        stamp = dt.datetime.fromtimestamp(now - 3600 + n, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        model = "claude-sonnet-4-5-20250929"
        mid, rid = f"msg_{tag}_{n}", f"req_{tag}_{n}"
        lines.append(claude_line(stamp + ".000Z", mid, rid, model, 10 + n, 100 + n, 50, 1000,
                                 session=f"s-{tag}"))  # fmt: skip
    with (folder / f"{tag}.jsonl").open("a") as fh:
        fh.write("\n".join(lines) + "\n")


def _sum(parts: list[dict[str, float]]) -> dict[str, float]:
    return {k: sum(p[k] for p in parts) for k in parts[0]}


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return all(a[k] == b[k] for k in FIGURES) and abs(a["cost_usd"] - b["cost_usd"]) < 1e-6


@pytest.fixture
def team(tmp_path: Path) -> Iterator[tuple[Home, list[Home], int]]:
    port = free_port()
    hub = Home(tmp_path, "hub")
    hub.config('window = "14d"\n')
    machines = [Home(tmp_path, "alpha"), Home(tmp_path, "beta")]
    for i, m in enumerate(machines):
        generate_claude_logs(Path(m.env["CLAUDE_CONFIG_DIR"]) / "projects", 40_000, 3, seed=i)
        m.hexai(40, i)
        m.config(f'source = "all"\n[team]\nhub = "http://127.0.0.1:{port}"\nhost = "{m.name}"\n')
    try:
        yield hub, machines, port
    finally:
        for home in (hub, *machines):
            home.stop()


def _by_host(hub: Home) -> dict[str, dict[str, float]]:
    done = hub.burntray("status", "--source", "hub", "--by", "host", "--window", "all",
                        "--format", "json")  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return {row["host"]: {k: row[k] for k in (*FIGURES, "total_tokens", "cost_usd")}
            for row in json.loads(done.stdout)["rows"]}  # fmt: skip


def _host_series(hub: Home) -> dict[str, dict[str, float]]:
    """The hub's /metrics host series (its window: the hub's config says 14d): per host."""
    try:
        text = urllib.request.urlopen(hub.metrics_url + "/metrics", timeout=10).read().decode()
    except OSError:
        return {}
    out: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        name, _, rest = line.partition("{")
        if not name.startswith("burntray_host_window_"):
            continue
        labels, _, value = rest.rpartition("} ")
        host = labels.split('host="', 1)[1].split('"', 1)[0]
        out.setdefault(host, {})[name.removeprefix("burntray_host_window_")] = float(value)
    return out


def _converged(hub: Home, machines: list[Home]) -> bool:
    """The hub's total equals the sum of the machines' own totals (Claude Code's records and
    hexai's minutes), and each host equals that machine's own figures, in the hub's ``--by
    host`` view and in its host series."""
    own = {m.name: m.status("claude") for m in machines}
    bytes_own = {m.name: m.status("hexai", BYTE_FIGURES) for m in machines}
    claude_tokens = {m.name: m.status("claude", ("tokens_est",))["tokens_est"] for m in machines}
    total = hub.status("hub", (*FIGURES, "sent", "recv", "tokens_est"))
    want = _sum(list(own.values()))
    hexai_sum = _sum(list(bytes_own.values()))
    if not all(total[k] == want[k] for k in FIGURES[1:]):  # the tokens only records know
        return False
    if total["reqs"] != want["reqs"] + hexai_sum["reqs"]:
        return False
    if (total["sent"], total["recv"]) != (hexai_sum["sent"], hexai_sum["recv"]):
        return False
    if total["tokens_est"] != sum(claude_tokens.values()) + hexai_sum["tokens_est"]:
        return False
    if abs(total["cost_usd"] - want["cost_usd"] - hexai_sum["cost_usd"]) > 1e-5:
        return False
    per_host = _by_host(hub)  # a line per host: its records and its hexai minutes
    if set(per_host) != set(own) or not all(
        all(per_host[n][k] == own[n][k] for k in FIGURES[1:])
        and per_host[n]["reqs"] == own[n]["reqs"] + bytes_own[n]["reqs"]
        and per_host[n]["total_tokens"] == claude_tokens[n] + bytes_own[n]["tokens_est"]
        and abs(per_host[n]["cost_usd"] - own[n]["cost_usd"] - bytes_own[n]["cost_usd"]) < 1e-5
        for n in own
    ):
        return False
    series = _host_series(hub)
    return set(series) == set(own) and all(
        series[n]["requests"] == own[n]["reqs"] + bytes_own[n]["reqs"]
        and series[n]["tokens"] == claude_tokens[n] + bytes_own[n]["tokens_est"]
        and abs(series[n]["cost_usd"] - own[n]["cost_usd"] - bytes_own[n]["cost_usd"]) < 1e-5
        for n in own
    )


def test_two_machines_report_to_one_hub_exactly_through_kills(
    team: tuple[Home, list[Home], int],
) -> None:
    hub, machines, port = team
    hub.serve("--source", "hub", "--otlp", f"127.0.0.1:{port}")
    for m in machines:
        m.serve()
    wait_for(lambda: _converged(hub, machines), 40, "the hub's totals to equal the machines'", 0.5)
    own = {m.name: m.status("claude") for m in machines}
    assert all(v["reqs"] > 0 for v in own.values())

    hexai_before = {m.name: m.status("hexai", BYTE_FIGURES)["reqs"] for m in machines}
    assert all(n == 40 for n in hexai_before.values())

    # the hub dies mid-stream; both machines write more usage meanwhile; the hub comes back
    hub.kill()
    for i, m in enumerate(machines):
        more_usage(m, f"{m.name}-more", 300)
        m.hexai(25, 10 + i)  # into minutes the hub holds already, and new ones
    wait_for(
        lambda: (
            all(m.status("claude")["reqs"] > own[m.name]["reqs"] for m in machines)
            and all(m.status("hexai", BYTE_FIGURES)["reqs"] == 65 for m in machines)
        ),
        30,
        "the machines to read their new usage",
        0.5,
    )
    # beta's sender meets the dead hub with a batch it cannot deliver; beta is killed then
    beta = machines[1]
    wait_for(lambda: "cannot report to" in beta.log.read_text(), 30, "beta to meet the dead hub")
    beta.kill()
    beta.serve()
    hub.serve("--source", "hub", "--otlp", f"127.0.0.1:{port}")
    wait_for(lambda: _converged(hub, machines), 60, "the hub to catch up after its restart", 0.5)

    # a machine dies mid-batch, writes more, and comes back: nothing counted twice
    alpha = machines[0]
    more_usage(alpha, "late", 3000)
    wait_for(lambda: alpha.status("claude")["reqs"] > own["alpha"]["reqs"] + 300, 30,
             "alpha to read its late usage", 0.2)  # fmt: skip
    alpha.kill()
    alpha.serve()
    wait_for(lambda: _converged(hub, machines), 60, "the hub to equal after a machine's kill", 0.5)
    assert _converged(hub, machines)
    _views_add_up(hub)


def _views_add_up(hub: Home) -> None:
    """Every ``--by`` view of the hub (records and hexai's minutes: by period in the viewer's
    zone, the minutes' session/project/branch as ``(unknown)``) sums to the hub's total."""
    total = hub.status("hub", ("reqs", "tokens_est"))
    for by in ("day", "week", "month", "session", "project", "branch", "host", "model", "tool",
               "day,host"):  # fmt: skip
        done = hub.burntray("status", "--source", "hub", "--by", by, "--window", WINDOW,
                            "--timezone", "Asia/Kathmandu", "--format", "json")  # fmt: skip
        assert done.returncode in (0, 1), done.stderr
        rows = json.loads(done.stdout)["rows"]
        assert sum(r["reqs"] for r in rows) == total["reqs"], by
        assert sum(r["total_tokens"] for r in rows) == total["tokens_est"], by
        cost = sum(r["cost_usd"] for r in rows)
        assert abs(cost - total["cost_usd"]) <= 1e-6 * (len(rows) + 1), by  # JSON rounds rows


def test_prometheus_sums_by_host_what_the_hub_reports(
    team: tuple[Home, list[Home], int], tmp_path: Path
) -> None:
    hub, machines, port = team
    metrics = free_port()
    hub.serve("--source", "hub", "--otlp", f"127.0.0.1:{port}", metrics_port=metrics)
    for m in machines:
        m.serve()
    wait_for(lambda: _converged(hub, machines), 40, "the hub's totals to equal the machines'", 0.5)
    # each machine's own figures: its Claude Code records and its hexai minutes
    per_host = {
        m.name: _sum([m.status("claude", ("reqs",)), m.status("hexai", ("reqs",))])
        for m in machines
    }
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: hub\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{metrics}']\n"
    )
    prom = free_port()
    with running(
        [require_tool("prometheus"), f"--config.file={config}",
         f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{prom}",
         "--storage.tsdb.retention.time=1h"],
        tmp_path / "prometheus.log", f"http://127.0.0.1:{prom}/-/ready", "prometheus ready",
        timeout_s=30, stop_s=10,
    ):  # fmt: skip

        def agree() -> bool:
            for host, own in per_host.items():
                where = f'{{host="{host}"}}'
                reqs = promql(prom, f"sum by (host) (burntray_host_window_requests{where})")
                cost = promql(prom, f"sum by (host) (burntray_host_window_cost_usd{where})")
                if reqs != own["reqs"] or cost is None or abs(cost - own["cost_usd"]) > 1e-6:
                    return False
            total = promql(prom, "sum(burntray_host_window_requests)")
            return total == sum(own["reqs"] for own in per_host.values())

        wait_for(agree, 30, "PromQL's sum by host to equal each machine's own status", 0.5)


def _self_signed(folder: Path) -> tuple[str, str]:
    crt, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [require_tool("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key),
         "-out", str(crt)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return str(crt), str(key)


def test_each_refusal_is_a_clear_error_on_the_machine_and_nothing_is_accepted(
    tmp_path: Path,
) -> None:
    crt, key = _self_signed(tmp_path)
    port = free_port()
    hub = Home(tmp_path, "hub")
    hub.config('[otel]\ntoken = "right-token"\n')
    https, http = f"https://127.0.0.1:{port}", f"http://127.0.0.1:{port}"
    cases = {
        "wrongtoken": (f'hub = "{https}"\ntoken = "wrong-token"\nca_file = "{crt}"\n',
                       "the hub refused the token (HTTP 401): check team.token"),
        "plainhttp": (f'hub = "{http}"\ntoken = "right-token"\n',
                      "use https:// in team.hub"),
        "noca": (f'hub = "{https}"\ntoken = "right-token"\n',
                 "the hub's certificate is not trusted"),
    }  # fmt: skip
    machines = []
    try:
        hub.serve("--source", "hub", "--otlp", f"127.0.0.1:{port}", "--tls-cert", crt,
                  "--tls-key", key)  # fmt: skip
        for name, (team, _) in cases.items():
            m = Home(tmp_path, name)
            more_usage(m, name, 5)
            m.config(f'source = "claude"\n[team]\n{team}host = "{name}"\n')
            m.serve()
            machines.append(m)
        for m in machines:
            expected = cases[m.name][1]
            wait_for(lambda m=m, e=expected: e in m.log.read_text(), 30, f"{m.name}: {expected}")
            assert "right-token" not in m.log.read_text()
            assert "wrong-token" not in m.log.read_text()
        # the running machine says it too, where its figures are (menu details, /v1/status)
        wrong = machines[0]

        def team_fact() -> str:
            url = wrong.metrics_url + "/v1/status"
            try:
                facts = json.loads(urllib.request.urlopen(url, timeout=10).read())["facts"]
            except OSError:
                return ""
            return next((f["value"] for f in facts if f["label"] == "Team hub"), "")

        # the fact follows the sender's latest attempt: an attempt made before the hub listened
        # said "cannot reach the hub" first
        refused = "NOT REPORTING (the hub refused the token"
        team = wait_for(lambda: refused in (fact := team_fact()) and fact, 60, "the fact")
        assert "wrong-token" not in team
        assert hub.status("hub")["reqs"] == 0
    finally:
        for home in (hub, *machines):
            home.stop()


def test_the_hubs_all_counts_its_own_usage_once_beside_the_team(tmp_path: Path) -> None:
    """The hub machine has Claude Code logs of its own and reports to itself too: its `all`
    adds the team's records to its own sources, its own records counted once."""
    port = free_port()
    hub, beta = Home(tmp_path, "hubhost"), Home(tmp_path, "beta")
    for i, home in enumerate((hub, beta)):
        generate_claude_logs(Path(home.env["CLAUDE_CONFIG_DIR"]) / "projects", 30_000, 2, seed=i)
        home.config(f'source = "all"\nwindow = "14d"\n[team]\nhub = "http://127.0.0.1:{port}"\n'
                    f'host = "{home.name}"\n')  # fmt: skip
    try:
        hub.serve("--source", "hub", "--otlp", f"127.0.0.1:{port}")
        beta.serve("--source", "claude")
        own = hub.status("claude")  # also puts the hub's own records in its history: queued
        wait_for(lambda: set(_by_host(hub)) == {"beta"} and _same(
            _by_host(hub)["beta"], beta.status("claude")), 40, "beta at the hub", 0.5)  # fmt: skip
        want = _sum([own, beta.status("claude")])
        wait_for(lambda: _same(hub.status("all"), want), 20, "the hub's all to add up", 0.5)
        assert set(_by_host(hub)) == {"beta"}  # its own records are its sources', not the hub's
    finally:
        hub.stop()
        beta.stop()
