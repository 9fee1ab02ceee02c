"""The report in a real browser: injected source strings never run; it renders, themes, prints.

Uses Debian's ``chromium`` headless with a fresh profile and background networking off, driven
through ``--dump-dom`` (the DOM after load, after scripts and error handlers would have run),
``--screenshot`` and ``--print-to-pdf``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from burntray.report.build import write_report
from burntray.sources.hexai import history as hexai_history
from burntray.sources.hexai.history import HexaiEvent
from burntray.store.alert_store import ensure_alert_tables
from tests.report_support import FIXED_EVENTS, NOW, NS, fixed_context, read_html, write_events

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
MARK = "document.documentElement.setAttribute('data-pwned-{}','1')"  # one per payload
PAYLOADS = {
    "script": f"<script>{MARK.format('script')}</script>",
    "img": f'"><img src=x onerror="{MARK.format("img")}">',
    "js": f"javascript:{MARK.format('js')}",
    "svg": f'</td></tr></table><svg onload="{MARK.format("svg")}">',
    "attr": f"' onmouseover='{MARK.format('attr')}' x='",
}


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs the Debian package)")
        pytest.skip("chromium is not installed: apt-get install chromium")
    return path


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"chromium-profile-{len(list(tmp_path.glob('chromium-profile-*')))}"
    cmd = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-default-apps",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=True)


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def injected(dom: str) -> list[str]:
    """Everything in the loaded DOM that shows source text became markup or ran."""
    parser = _Elements()
    parser.feed(dom)
    problems = []
    for tag, attrs in parser.elements:
        if tag in ("script", "img", "iframe", "object", "embed", "a"):
            problems.append(f"<{tag}> element")
        for name, value in attrs.items():
            if name.startswith("on"):
                problems.append(f"{name} handler on <{tag}>")
            if name.startswith("data-pwned-"):
                problems.append(f"marker set by the {name.removeprefix('data-pwned-')!r} payload")
            if value and value.strip().lower().startswith("javascript:"):
                problems.append(f"javascript: URL in {name}")
    return problems


def dump_dom(tmp_path: Path, page: Path) -> str:
    return run_chromium(tmp_path, "--dump-dom", page.as_uri()).stdout


def test_detection_works_on_a_page_that_does_run_the_payloads(tmp_path: Path) -> None:
    """Control: the same payloads pasted raw into a page are caught by ``injected``."""
    page = tmp_path / "control.html"
    page.write_text(
        "<!DOCTYPE html><html><body><table><tr><td>"
        + "</td><td>".join(PAYLOADS.values())
        + "</td></tr></table></body></html>"
    )
    dom = dump_dom(tmp_path, page)
    problems = injected(dom)
    for kind in ("script", "img", "svg"):
        assert f"marker set by the {kind!r} payload" in problems, problems


def test_source_strings_are_text_and_never_run(hexai_dir: Path, tmp_path: Path) -> None:
    events = tuple(
        (600 - i * 60, PAYLOADS[a], PAYLOADS[b], 1000 * (i + 1), 100)
        for i, (a, b) in enumerate(
            [("script", "img"), ("img", "js"), ("js", "svg"), ("svg", "attr"), ("attr", "script")]
        )
    )
    write_events(hexai_dir, events)
    ctx = fixed_context()
    history = ctx.history()
    assert history is not None
    ensure_alert_tables(history)  # the schema the alert store owns
    with history.transaction() as conn:
        conn.execute(
            "INSERT INTO alert_log VALUES (?, 'hexai', ?, ?, ?)",
            (NOW - 100 * NS, PAYLOADS["svg"], PAYLOADS["attr"], PAYLOADS["img"]),
        )
    report = write_report(ctx, ctx.settings, out=tmp_path / "payloads.html")
    # The same strings as an error text: a stats.json whose timestamp is a payload.
    (hexai_dir / "stats.json").write_text(
        '{"version":1,"updated_at":"2026-03-01T10:00:00Z","window_seconds":3600,'
        '"events":[{"ts":"<img src=x onerror=alert(1)>","provider":"p","model":"m",'
        '"sent":1,"recv":1}]}\n'
    )
    error_report = write_report(ctx, ctx.settings, out=tmp_path / "error.html")
    ctx.close()
    assert "&lt;img src=x onerror=alert(1)&gt;" in error_report.read_text()

    html = report.read_text()
    # Escaping alone must hold: strip the Content-Security-Policy and load that page too.
    no_csp = tmp_path / "payloads-no-csp.html"
    no_csp.write_text(_strip_csp(html))
    error_no_csp = tmp_path / "error-no-csp.html"
    error_no_csp.write_text(_strip_csp(error_report.read_text()))
    for page in (report, no_csp, error_report, error_no_csp):
        dom = dump_dom(tmp_path, page)
        assert injected(dom) == [], page.name
        assert "<table" in dom  # the page did load and render
    dom = dump_dom(tmp_path, no_csp)
    assert "&lt;script&gt;document.documentElement.setAttribute" in dom  # shown as text
    assert "javascript:document.documentElement" in dom

    # Control in the very same page: one payload un-escaped does run and is caught.
    raw = _strip_csp(html).replace(
        "&lt;script&gt;document.documentElement.setAttribute(&#39;data-pwned-script&#39;,"
        "&#39;1&#39;)&lt;/script&gt;",
        PAYLOADS["script"],
        1,
    )
    assert raw != _strip_csp(html)
    broken = tmp_path / "broken.html"
    broken.write_text(raw)
    assert "marker set by the 'script' payload" in injected(dump_dom(tmp_path, broken))


def _strip_csp(html: str) -> str:
    start = html.index('<meta http-equiv="Content-Security-Policy"')
    return html[:start] + html[html.index(">", start) + 1 :]


def test_normal_report_screenshots_and_prints(hexai_dir: Path, tmp_path: Path) -> None:
    """A day of usage: kept as artifacts/report*.png for a person to look at."""
    write_events(hexai_dir, FIXED_EVENTS)
    ctx = fixed_context()
    history = ctx.history()
    assert history is not None
    models = [("openai", "gpt-4.1"), ("anthropic", "claude-sonnet-4-5"), ("ollama", "qwen3")]
    hexai_history.ingest(
        history,
        (
            HexaiEvent(NOW - (3700 + i * 211) * NS, *models[i % 3], 3000 + i * 37 % 9000, 800, 0)
            for i in range(400)
        ),
    )
    ensure_alert_tables(history)  # the schema the alert store owns
    with history.transaction() as conn:
        conn.execute(
            "INSERT INTO alert_log VALUES (?, 'hexai', 'spike', 'spike', ?)",
            (NOW - 5 * 3600 * NS, "Spend spike: $0.42/h (5 min) - 3.4x the last hour"),
        )
    report = write_report(ctx, ctx.settings.replace(window="24h"), out=tmp_path / "report.html")
    ctx.close()
    ARTIFACTS.mkdir(exist_ok=True)
    shots = {}
    for name, extra in (("report.png", []), ("report-dark.png", ["--force-dark-mode"])):
        shot = ARTIFACTS / name
        shot.unlink(missing_ok=True)
        run_chromium(
            tmp_path,
            "--hide-scrollbars",
            "--window-size=1100,2400",
            f"--screenshot={shot}",
            *extra,
            report.as_uri(),
        )
        with Image.open(shot) as image:
            rgb = image.convert("RGB")
            shots[name] = rgb.getpixel((5, 5))
            colors = rgb.resize((64, 140)).getcolors(maxcolors=64 * 140)
            assert colors is not None and len(colors) > 20, f"{name} looks blank"
    assert sum(shots["report.png"]) > 700  # light background
    assert sum(shots["report-dark.png"]) < 150  # dark theme followed the system setting
    pdf = ARTIFACTS / "report.pdf"
    pdf.unlink(missing_ok=True)
    run_chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", report.as_uri())
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 20_000


MEASURE = """<script>
const cell = (table, col) => document.querySelector(`#${table} tbody tr td:nth-child(${col})`);
const section = document.querySelector('#models');
const figures = {};
for (const [table, col] of [['model-table', 1], ['model-table', 2], ['provider-table', 1],
                            ['price-table', 1], ['price-table', 2]]) {
  const td = cell(table, col);
  figures[`${table}:${col}`] = {width: td.getBoundingClientRect().width,
                                text: td.scrollWidth, client: td.clientWidth};
}
const tables = [...document.querySelectorAll('table')];
figures.overflow = Math.max(...tables.map(
  t => t.getBoundingClientRect().right - section.getBoundingClientRect().right));
figures.tables = Object.fromEntries(tables.map(
  t => [t.id, t.getBoundingClientRect().right - section.getBoundingClientRect().right]));
document.body.setAttribute('data-layout', JSON.stringify(figures));
</script>"""


def test_a_long_model_name_leaves_the_provider_column_readable(
    hexai_dir: Path, tmp_path: Path
) -> None:
    """A 90-character model name without a space (fine-tunes, router paths) must wrap or be
    cut in its own column, never squeeze the provider column or push the table off the page."""
    import json

    long_model = "acme-research-lab/" + "very-long-fine-tuned-model-name-" * 2 + "v2-preview"
    write_events(hexai_dir, ((10, "openrouter", long_model, 4000, 400),))
    ctx = fixed_context()
    report = write_report(ctx, ctx.settings, out=tmp_path / "report.html")
    ctx.close()
    page = tmp_path / "measured.html"
    html = _strip_csp(report.read_text())
    page.write_text(html.replace("</body>", MEASURE + "</body>"))
    dom = run_chromium(tmp_path, "--window-size=800,1200", "--dump-dom", page.as_uri()).stdout
    marker = 'data-layout="'
    raw = dom[dom.index(marker) + len(marker) :].split('"', 1)[0]
    layout = json.loads(raw.replace("&quot;", '"'))
    assert layout["overflow"] <= 1, layout["tables"]  # every table fits its section
    for key in ("model-table:1", "provider-table:1", "price-table:1"):
        provider = layout[key]
        # "openrouter" shown whole: its cell is as wide as its text (nothing cut or squeezed)
        assert provider["text"] <= provider["client"] + 1 and provider["width"] >= 60, (key, layout)
    for key in ("model-table:2", "price-table:2"):
        assert layout[key]["width"] < 800 * 0.6, (key, layout)  # the name wraps in its cell


def test_claude_report_in_a_browser_names_the_price_that_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report over real Claude Code log lines, loaded in Chromium: the models priced from the
    price file shipped with burntray (the bundled table) say so, the one without a price says
    unpriced; the headline says the tokens are real."""
    from tests.report_support import SONNET, write_claude_logs

    write_claude_logs(tmp_path, monkeypatch)
    ctx = fixed_context()
    settings = ctx.settings.replace(source="claude", window="1h")
    report = write_report(ctx, settings, out=tmp_path / "claude.html")
    ctx.close()
    dom = dump_dom(tmp_path, report)
    assert injected(dom) == []
    page = read_html(dom)
    prices = {row[1]: row for row in page.tables["price-table"][1:]}
    shipped = "bundled table"
    assert prices[SONNET][2:4] == ["claude-sonnet-4-5", shipped]
    assert prices["claude-imaginary-9"][2:4] == ["unpriced", "no price known"]
    priced = [row for model, row in prices.items() if model != "claude-imaginary-9"]
    assert all(row[3] == shipped for row in priced), priced
    tokens = page.by_id["fig-tokens"]  # real counts from the logs: no estimate mark
    assert tokens.startswith("Tokens") and "est." not in tokens and "bytes" not in tokens


def test_project_and_branch_names_in_the_views_are_text_and_never_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The views' tables and bar tooltips carry names from the logs (a project folder, a git
    branch): each payload is shown as text in the browser, none runs."""
    from tests.agent_logs_support import claude_line
    from tests.report_support import SONNET, _stamp

    projects = tmp_path / "claude" / "projects"
    for i, (kind, payload) in enumerate(PAYLOADS.items()):
        folder = projects / f"-work-{kind}"
        folder.mkdir(parents=True)
        (folder / "s.jsonl").write_text(
            claude_line(_stamp(600 + i), f"m{i}", f"r{i}", SONNET, 10, 10, branch=payload) + "\n"
        )
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude"))
    ctx = fixed_context()
    report = write_report(ctx, ctx.settings.replace(source="claude", window="1h"),
                          out=tmp_path / "views.html")  # fmt: skip
    ctx.close()
    for page in (report, tmp_path / "views-no-csp.html"):
        if page != report:
            page.write_text(_strip_csp(report.read_text()))
        dom = dump_dom(tmp_path, page)
        assert injected(dom) == [], page.name
        branches = read_html(dom).tables["branches-table"]
        assert sorted(row[1] for row in branches[1:]) == sorted(PAYLOADS.values())
