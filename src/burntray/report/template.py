"""The HTML report's Jinja2 template, embedded so it works installed, zipped and frozen alike.

Rendered with ``autoescape=True``: every value is escaped unless it is ``Markup`` built by
``charts`` (which escapes its own text). Source strings are never marked safe. The page needs
no script; the Content-Security-Policy forbids scripts and every network fetch, so even a
mistake elsewhere could neither run code nor call home.
"""

from __future__ import annotations

# No script may run and nothing may be fetched: styles inline, images only as data: URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)

REPORT_TEMPLATE = """\
{%- macro name(text) -%}
{% if text %}{{ text }}{% else %}<span class="blank">(empty)</span>{% endif %}
{%- endmacro -%}
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="burntray {{ version }}">
<title>{{ demo_prefix }}burntray report · {{ source }} · {{ window }} · {{ date_range }} ·
{{ generated }}</title>
<style>
:root {
  --bg: #ffffff; --fg: #1d2330; --muted: #5d6678; --line: #d8dce4; --card: #f5f6f9;
  --accent: #c2410c; --accent-soft: rgba(194, 65, 12, 0.16); --bar: #2563eb;
  --warn-bg: #fff4e5; --warn-fg: #8a3b00; --bad: #b42318; --ok: #1e7b34;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14171d; --fg: #e6e9ef; --muted: #9aa3b2; --line: #2d333d; --card: #1c2028;
    --accent: #fb923c; --accent-soft: rgba(251, 146, 60, 0.18); --bar: #60a5fa;
    --warn-bg: #3a2712; --warn-fg: #fcd9a8; --bad: #f97066; --ok: #6ccf85;
  }
}
* { box-sizing: border-box; }
html { background: var(--bg); color: var(--fg); }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  max-width: 1000px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; }
h2 { font-size: 1.15rem; margin: 32px 0 10px; padding-bottom: 4px;
  border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 18px 0 6px; }
p, li { margin: 4px 0; }
.muted, .note { color: var(--muted); }
.note { font-size: 0.9rem; }
.alert { background: var(--warn-bg); color: var(--warn-fg); padding: 10px 14px;
  border-radius: 8px; margin: 14px 0; font-weight: 600; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr));
  gap: 10px; margin: 16px 0 4px; }
.figure { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 10px 12px; }
.figure .name { color: var(--muted); font-size: 0.8rem; text-transform: uppercase;
  letter-spacing: 0.04em; }
.figure .value { font-size: 1.35rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.figure .sub { color: var(--muted); font-size: 0.85rem; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; overflow-wrap: anywhere; }
th { font-size: 0.82rem; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
th.num { white-space: normal; }  /* "Tokens (est.)" may take two lines in a narrow window */
td.nowrap { white-space: nowrap; }
/* Provider names are short: never broken. A long model name (router paths, fine-tunes) wraps
   inside its own column, which keeps a readable width, instead of squeezing its neighbours. */
td.provider { white-space: nowrap; overflow-wrap: normal; }
td.model { min-width: 8em; }
tbody tr:nth-child(even) { background: var(--card); }
.blank { color: var(--muted); font-style: italic; }
.state-ok, .state-empty { color: var(--ok); font-weight: 600; }
.state-error, .state-offline, .state-starting { color: var(--bad); font-weight: 600; }
.chart { width: 100%; height: auto; display: block; margin: 4px 0 12px; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart .axis { stroke: var(--muted); stroke-width: 1; }
.chart .tick { fill: var(--muted); font-size: 11px; }
.chart .label { fill: var(--fg); font-size: 12px; }
.chart .empty { fill: var(--muted); font-size: 14px; }
.chart .bar { fill: var(--bar); }
.chart .hit { fill: transparent; }
.chart .mark:hover .bar, .chart .mark:hover .hit:is(circle) { fill: var(--accent); }
.chart .line { fill: none; stroke: var(--accent); stroke-width: 2; }
.chart .area { fill: var(--accent-soft); stroke: none; }
.chart .dot { fill: var(--accent); }
.chart .marker { stroke: var(--bad); stroke-width: 1.5; stroke-dasharray: 4 3; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 8px 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
footer { margin-top: 36px; color: var(--muted); font-size: 0.85rem; }
@media print {
  :root { --bg: #fff; --fg: #000; --muted: #444; --line: #bbb; --card: #f3f3f3;
    --bar: #2563eb; --accent: #c2410c; }
  body { max-width: none; padding: 0; font-size: 11pt; }
  h2 { break-after: avoid; }
  .chart, table, .figures, section.chart-block { break-inside: avoid; }
}
</style>
</head>
<body>
<header>
<h1>{{ demo_prefix }}burntray report: {{ source_label }}, {{ heading_span }}</h1>
{% if demo_prefix %}<p class="alert" id="demo-banner">
DEMO: synthetic data from <code>burntray demo</code>, not your usage.</p>{% endif %}
<p class="muted">{{ period }} · generated {{ generated }}</p>
{% if alert_text %}<p class="alert" id="alert-banner">{{ alert_text }}</p>{% endif %}
</header>

<section id="headline">
<div class="figures">
{% for figure in figures %}
<div class="figure" id="fig-{{ figure.id }}"><div class="name">{{ figure.name }}</div>
<div class="value">{{ figure.value }}</div>
{% if figure.sub %}<div class="sub">{{ figure.sub }}</div>{% endif %}</div>
{% endfor %}
</div>
{% for line in headline_notes %}<p class="note">{{ line }}</p>{% endfor %}
</section>

<section id="charts">
<h2>Over time</h2>
{% if chart_source %}<p class="note">From {{ chart_source }}.</p>{% endif %}
{% if chart_note %}<p class="note" id="chart-note">{{ chart_note }}</p>{% endif %}
{% for chart in charts %}
<section class="chart-block">
<h3>{{ chart.heading }}</h3>
{{ chart.svg }}
{% if chart.caption %}<p class="note">{{ chart.caption }}</p>{% endif %}
</section>
{% endfor %}
</section>

{% if tools %}
<section id="tools">
<h2>By tool</h2>
<table id="tool-table">
<thead><tr><th>Tool</th><th>State</th><th class="num">Requests</th><th class="num">Tokens</th>
<th class="num">Cost</th><th class="num">Share</th><th>Counted</th></tr></thead>
<tbody>
{% for row in tools %}
<tr><td>{{ row.tool }}</td><td>{{ row.state }}</td><td class="num">{{ row.reqs }}</td>
<td class="num">{{ row.tokens }}</td><td class="num">{{ row.cost }}</td>
<td class="num">{{ row.share }}</td><td>{{ row.counted }}</td></tr>
{% endfor %}
</tbody>
</table>
</section>
{% endif %}

{% if view_charts %}
<section id="periods">
<h2>Per {{ period_unit }}</h2>
<p class="note">From burntray's history, as <code>status --by {{ period_unit }},tool</code>
counts it: each tool's requests once.</p>
{% for chart in view_charts %}
<section class="chart-block">
<h3>{{ chart.heading }}</h3>
{{ chart.svg }}
{% if chart.caption %}<p class="note">{{ chart.caption }}</p>{% endif %}
</section>
{% endfor %}
</section>
{% endif %}

{% for table in view_tables %}
<section id="{{ table.id }}">
<h2>{{ table.heading }}</h2>
{% if table.rows %}
<table id="{{ table.id }}-table">
<thead><tr>{% for column in table.columns %}<th>{{ column }}</th>{% endfor %}
<th class="num">Requests</th><th class="num">Tokens</th><th class="num">Cost</th>
<th class="num">Share</th></tr></thead>
<tbody>
{% for row in table.rows %}
<tr>{% for key in row["keys"] %}<td>{{ name(key) }}</td>{% endfor %}
<td class="num">{{ row.reqs }}</td><td class="num">{{ row.tokens }}</td>
<td class="num">{{ row.cost }}</td><td class="num">{{ row.share }}</td></tr>
{% endfor %}
</tbody>
</table>
{% if table.hidden %}<p class="note">and {{ table.hidden }} more, cheaper.</p>{% endif %}
{% else %}<p class="muted">No per-request records in this range.</p>{% endif %}
</section>
{% endfor %}

{% if two_costs %}
<section id="two-costs">
<h2>Two costs: the tool's own and the logs'</h2>
<p class="note">What the tool reported itself (Claude Code's status line or OTLP; for a session
both reported, the one seen last) beside the cost burntray works out from its logs. Never added
together; a gap over {{ two_costs.flag_pct }} % is flagged (placeholder token counts in the logs
are a known cause). A day is compared with the logs' cost of the same sessions that day.</p>
{% for title, rows, key in (("By session", two_costs.sessions, "Session"),
                            ("By day", two_costs.days, "Day")) %}
{% if rows %}
<h3>{{ title }}</h3>
<table id="two-costs-{{ key | lower }}-table">
<thead><tr><th>{{ key }}</th><th class="num">Logs' cost</th><th class="num">Tool's own</th>
<th>From</th><th class="num">Gap</th></tr></thead>
<tbody>
{% for row in rows %}
<tr{% if row.flagged %} class="flagged"{% endif %}><td>{{ row.key }}</td>
<td class="num">{{ row.logged }}</td><td class="num">{{ row.own }}</td><td>{{ row.origin }}</td>
<td class="num">{{ row.gap }}{% if row.flagged %}
<strong>over {{ two_costs.flag_pct }} %</strong>{% endif %}</td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
{% endfor %}
{% if two_costs.hidden %}
<p class="note">and {{ two_costs.hidden }} more sessions, earlier.</p>{% endif %}
</section>
{% endif %}

<section id="providers">
<h2>By provider</h2>
{% if providers %}
<table id="provider-table">
<thead><tr><th>Provider</th><th class="num">Models</th><th class="num">Requests</th>
<th class="num">RPM</th><th class="num">{{ tokens_heading }}</th><th class="num">Sent</th>
<th class="num">Received</th><th class="num">Cost</th><th class="num">Share</th></tr></thead>
<tbody>
{% for row in providers %}
<tr><td class="provider">{{ name(row.provider) }}</td>
<td class="num">{{ row.models }}</td><td class="num">{{ row.reqs }}</td>
<td class="num">{{ row.rpm }}</td><td class="num">{{ row.tokens }}</td>
<td class="num">{{ row.sent }}</td><td class="num">{{ row.recv }}</td>
<td class="num">{{ row.cost }}</td><td class="num">{{ row.share }}</td></tr>
{% endfor %}
</tbody>
</table>
{% else %}<p class="muted">{{ no_rows_text }}</p>{% endif %}
</section>

<section id="models">
<h2>By model</h2>
{% if models %}
<table id="model-table">
<thead><tr><th>Provider</th><th>Model</th><th class="num">Requests</th><th class="num">RPM</th>
<th class="num">{{ tokens_heading }}</th><th class="num">Sent</th><th class="num">Received</th>
<th class="num">Cost</th><th class="num">Share</th></tr></thead>
<tbody>
{% for row in models %}
<tr><td class="provider">{{ name(row.provider) }}</td>
<td class="model">{{ name(row.model) }}</td>
<td class="num">{{ row.reqs }}</td><td class="num">{{ row.rpm }}</td>
<td class="num">{{ row.tokens }}</td><td class="num">{{ row.sent }}</td>
<td class="num">{{ row.recv }}</td><td class="num">{{ row.cost }}</td>
<td class="num">{{ row.share }}</td></tr>
{% endfor %}
</tbody>
</table>
{% else %}<p class="muted">{{ no_rows_text }}</p>{% endif %}
</section>

<section id="alerts">
<h2>Alerts</h2>
{% if alerts %}
{% if alerts_hidden %}
<p class="note">{{ alerts_hidden }} earlier alerts in this window are not listed.</p>
{% endif %}
<table id="alert-table">
<thead><tr><th>When</th><th>Source</th><th>Kind</th><th>Level</th><th>Message</th></tr></thead>
<tbody>
{% for alert in alerts %}
<tr><td class="nowrap">{{ alert.when }}</td><td>{{ alert.source }}</td><td>{{ alert.kind }}</td>
<td>{{ alert.level }}</td><td>{{ alert.message }}</td></tr>
{% endfor %}
</tbody>
</table>
{% else %}<p class="muted" id="alerts-none">{{ alerts_note }}</p>{% endif %}
</section>

<section id="health">
<h2>Source health</h2>
<dl>
{% for label, value, css in health %}
<dt>{{ label }}</dt><dd{% if css %} class="{{ css }}"{% endif %}>{{ value }}</dd>
{% endfor %}
</dl>
{% if upstream %}
<h3>{{ upstream.title }}</h3>
<dl id="{{ upstream.key }}">
{% for label, value in upstream.rows %}<dt>{{ label }}</dt><dd>{{ value }}</dd>
{% endfor %}
</dl>
{% endif %}
</section>

<section id="pricing">
<h2>How costs were estimated</h2>
{% for line in pricing_notes %}<p>{{ line }}</p>{% endfor %}
{% if priced_rows %}
<table id="price-table">
<thead><tr><th>Provider</th><th>Model</th><th>Priced as</th><th>Price from</th>
<th class="num">Input $/M tok</th><th class="num">Output $/M tok</th></tr></thead>
<tbody>
{% for row in priced_rows %}
<tr><td class="provider">{{ name(row.provider) }}</td>
<td class="model">{{ name(row.model) }}</td>
<td>{{ row.key }}</td><td>{{ row.origin }}</td>
<td class="num">{{ row.input }}</td><td class="num">{{ row.output }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
</section>

<footer>
<p>burntray {{ version }} · this file is self-contained: no network, no scripts.
Exports of the same data: <code>burntray report --format csv</code> or
<code>--format json</code>.</p>
</footer>
</body>
</html>
"""
