"""The presenter as values: Snapshot + Settings + UiState -> TrayView, with no display."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from msgspec.structs import replace

from burntray.config import Settings
from burntray.model.snapshot import Snapshot, SourceStatus, Totals, UsageRow
from burntray.ui.presenter import (
    ICON_STATES,
    UiState,
    icon_figure,
    icon_state,
    present,
)
from burntray.ui.text_fit import TITLE_LIMIT

HOUR_NS = 3600 * 10**9


def snap(**changes: object) -> Snapshot:
    base = Snapshot(
        source="hexai",
        window_ns=HOUR_NS,
        as_of_ns=1_700_000_000 * 10**9,
        status=SourceStatus("ok", "42 events"),
        totals=Totals(reqs=42, rpm=0.7, sent=120_000, recv=30_000, tokens=37_500, cost_usd=0.84),
        by_model=(
            UsageRow("openai", "gpt-4.1", 30, 90_000, 20_000, 27_500, 0.70, 0, "gpt-4.1"),
            UsageRow("anthropic", "claude-haiku-4-5", 12, 30_000, 10_000, 10_000, 0.14, 0, "x"),
        ),
        tokens_estimated=True,
        cost_estimated=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_title_is_the_issue_example() -> None:
    view = present(snap(), Settings())
    assert view.title == "burntray · hexai · 1h\n42 reqs · 0.70 RPM · $0.84 est."


def test_header_rows_show_source_window_figures_and_models() -> None:
    view = present(snap(), Settings(window="1h"))
    assert view.header == (
        "hexai · last 1 h",
        "42 reqs · 0.70 RPM · $0.84 est.",
        "openai/gpt-4.1 · 30 reqs · $0.70",
        "anthropic/claude-haiku-4-5 · 12 reqs · $0.14",
    )


def test_every_icon_state_is_reachable() -> None:
    cases = {
        "normal": (snap(), UiState()),
        "elevated": (snap(alert_level="elevated"), UiState()),
        "spike": (snap(alert_level="spike", alert_text="Spend spike: $12.40/h"), UiState()),
        "stale": (snap(status=SourceStatus("ok", "", stale=True)), UiState()),
        "offline": (snap(status=SourceStatus("offline", "no daemon", stale=True)), UiState()),
        "error": (snap(status=SourceStatus("error", "bad json")), UiState()),
    }
    assert set(cases) == set(ICON_STATES)
    for state, (snapshot, ui) in cases.items():
        assert present(snapshot, Settings(), ui).icon.state == state, state


def test_errors_outrank_alerts_and_nothing_read_yet_is_dimmed() -> None:
    spiking_but_broken = snap(alert_level="spike", status=SourceStatus("error", "unreadable"))
    assert icon_state(spiking_but_broken, UiState()) == "error"
    assert icon_state(snap(), UiState(monitor_error="stopped")) == "error"
    assert icon_state(None, UiState()) == "stale"
    assert icon_state(snap(status=SourceStatus("starting", "")), UiState()) == "stale"


def test_spike_sets_attention_and_puts_the_alert_in_title_and_menu() -> None:
    view = present(snap(alert_level="spike", alert_text="Spend spike: $12.40/h"), Settings())
    assert view.attention
    assert view.title.endswith("\nSpend spike: $12.40/h")
    assert "Spend spike: $12.40/h" in view.header
    assert not present(snap(alert_level="elevated"), Settings()).attention


def test_stale_offline_and_empty_notes() -> None:
    status = SourceStatus("offline", "cburn: refused", stale=True)
    offline = present(snap(status=status), Settings())
    assert "offline: cburn: refused (numbers are the last good ones)" in offline.title
    empty = present(snap(status=SourceStatus("empty", "no stats.json yet at /x")), Settings())
    assert empty.header[-1] == "no stats.json yet at /x"
    assert empty.icon.state == "normal"


def test_icon_figures() -> None:
    s = snap(totals=Totals(reqs=1234, rpm=20.57, cost_usd=0.84))
    assert icon_figure(s, "rpm") == "21"
    assert icon_figure(s, "cost") == "$0.8"
    assert icon_figure(s, "reqs") == "1.2k"
    assert icon_figure(s, "none") == ""
    assert icon_figure(snap(totals=Totals(rpm=0.7)), "rpm") == "0.7"
    assert icon_figure(snap(totals=Totals(rpm=2500.0)), "rpm") == "2.5k"
    assert icon_figure(snap(totals=Totals(cost_usd=1234.0)), "cost") == "$1.2k"
    assert icon_figure(snap(totals=Totals(reqs=3, unpriced_reqs=3)), "cost") == "$?"
    assert icon_figure(None, "rpm") == ""


@given(
    st.sampled_from(("rpm", "cost", "reqs")),
    st.integers(0, 10**9),
    st.floats(0, 1e7, allow_nan=False),
    st.floats(0, 1e9, allow_nan=False),
)
def test_icon_figure_stays_short(figure: str, reqs: int, rpm: float, cost: float) -> None:
    text = icon_figure(snap(totals=Totals(reqs=reqs, rpm=rpm, cost_usd=cost)), figure)
    assert 1 <= len(text) <= 5  # "$1.2k" is the longest


def test_unpriced_rows_and_top_five() -> None:
    rows = tuple(
        UsageRow("p", f"m{i}", 10 - i, 1, 1, 1, None if i == 0 else 0.01, 10 if i == 0 else 0)
        for i in range(8)
    )
    view = present(snap(by_model=rows, totals=Totals(reqs=50, unpriced_reqs=10)), Settings())
    model_rows = [row for row in view.header if row.startswith("p/")]
    assert model_rows[0] == "p/m0 · 10 reqs · unpriced"
    assert len(model_rows) == 5
    assert "10 reqs unpriced (no price known for the model)" in view.details


@given(
    detail=st.text(max_size=400),
    alert=st.text(max_size=400),
    source=st.text(min_size=1, max_size=60),
    monitor_error=st.text(max_size=200),
)
def test_title_never_exceeds_the_windows_limit(
    detail: str, alert: str, source: str, monitor_error: str
) -> None:
    snapshot = snap(
        source=source,
        status=SourceStatus("error", detail, stale=True),
        alert_level="spike",
        alert_text=alert,
        totals=Totals(reqs=10**12, rpm=1e9, cost_usd=1e12, unpriced_reqs=10**11),
    )
    view = present(snapshot, Settings(), UiState(demo=True, monitor_error=monitor_error))
    assert len(view.title) <= TITLE_LIMIT
    assert view.title.startswith("burntray DEMO · ")
    assert all(len(row) <= 72 for row in view.header)


def test_long_title_is_cut_with_an_ellipsis_keeping_the_figures() -> None:
    view = present(snap(alert_level="spike", alert_text="x" * 300), Settings())
    assert len(view.title) == TITLE_LIMIT
    assert view.title.endswith("…")
    assert view.title.startswith("burntray · hexai · 1h\n42 reqs · 0.70 RPM · $0.84 est.\n")


def test_a_long_offline_reason_is_shortened_not_cut_mid_word() -> None:
    detail = (
        "cannot read /home/someone/.cache/hexai/stats.json: [Errno 13] Permission denied: "
        "'/home/someone/.cache/hexai/stats.json' (check the folder's owner and mode)"
    )
    snapshot = snap(status=SourceStatus("offline", detail, stale=True), alert_level="elevated",
                    alert_text="Spend elevated: $3.40/h (5 min)")  # fmt: skip
    title = present(snapshot, Settings()).title
    assert len(title) <= TITLE_LIMIT
    heading, figures, alert, reason = title.split("\n")
    assert (heading, figures) == ("burntray · hexai · 1h", "42 reqs · 0.70 RPM · $0.84 est.")
    assert alert == "Spend elevated: $3.40/h (5 min)"
    # Shortened first (no folders, no errno tag), then cut after a whole word.
    assert reason == "offline: cannot read …/stats.json…"
    roomier = present(replace(snapshot, alert_level="normal"), Settings()).title
    assert roomier.split("\n")[-1] == (
        "offline: cannot read …/stats.json: Permission denied: '…/stats.json'…"
    )


def test_demo_config_error_message_and_confirm_rows() -> None:
    ui = UiState(
        demo=True,
        config_error="config.toml: window = 'x' is not allowed\nsecond line",
        message="cleared 3 events",
        confirm="hexai",
        confirm_detail="3 events",
        clear_targets=(("hexai", "hexai stats"), ("history", "burntray history")),
    )
    view = present(snap(), Settings(), ui)
    assert view.header[0] == "DEMO · synthetic data, not your usage"
    assert "config.toml is invalid: defaults in use, changes not saved" in view.header
    (problem,) = view.problems  # the whole error, in its own submenu
    assert problem.label == "config.toml: window = 'x' is not allowed"
    assert problem.lines == ("config.toml: window = 'x' is not allowed", "second line")
    assert view.header[-1] == "cleared 3 events"
    assert view.confirm_label == "Empty hexai stats (3 events)?"
    assert view.title.startswith("burntray DEMO")


def test_menu_states_follow_settings() -> None:
    settings = Settings(window="15m", source="hexai", icon_figure="cost", notifications=False)
    view = present(snap(), settings)
    assert (view.window, view.source, view.icon_figure) == ("15m", "hexai", "cost")
    assert not view.notifications.on
    assert view.autostart.label == "Start at login (not in this build)"
    assert not view.autostart.enabled
    supported = present(snap(), settings, UiState(autostart_supported=True, autostart_on=True))
    assert supported.autostart.label == "Start at login" and supported.autostart.on


def test_views_compare_by_value_so_unchanged_data_is_not_redrawn() -> None:
    assert present(snap(), Settings()) == present(snap(), Settings())
    # as_of moves every tick; the view must not
    assert present(snap(as_of_ns=1), Settings()) == present(snap(as_of_ns=2), Settings())
    assert present(snap(), Settings()) != present(snap(totals=Totals(reqs=43)), Settings())


def test_starting_view() -> None:
    view = present(None, Settings(window="6h"))
    assert view.title == "burntray · all · 6h\nstarting…"
    assert view.icon.state == "stale"


@given(st.integers(0, 10**15 - 1))
def test_compact_number_is_at_most_four_characters(n: int) -> None:
    from burntray.ui.presenter import compact_number

    text = compact_number(n)
    assert len(text) <= 4, text


def test_cburn_daemon_period_figures_are_in_the_menu() -> None:
    from burntray.sources.cburn.period import DaemonPeriod
    from burntray.sources.cburn.source import period_facts

    period = DaemonPeriod(
        days=30,
        sessions=120,
        prompts=900,
        api_calls=5400,
        tokens=81_234_567,
        estimated_cost_usd=412.37,
        cache_hit_rate=0.91,
        cost_per_day_usd=20.6,
        tokens_per_day=4_061_728,
        sessions_per_day=6.0,
        poll_interval_sec=15,
        last_error="parse /home/u/.claude/projects/x.jsonl: unexpected EOF",
    )
    view = present(
        snap(
            source="cburn",
            by_model=(),
            upstream=period,
            facts=period_facts(period),
            tokens_estimated=False,
        ),
        Settings(window="1h", source="cburn"),
    )
    assert view.details[:4] == (
        "daemon, last 30 d: $412.37 est. · $20.60/active day",
        "81.2M tokens · 120 sessions · cache hits 91%",
        # Details rows are wrapped at the menu's row limit, never cut
        "daemon's last poll failed: parse /home/u/.claude/projects/x.jsonl:",
        "unexpected EOF",
    )
    assert not any("/home/u" in row for row in view.header)  # paths only under Details


def _all_snapshot(broken: bool = False) -> Snapshot:
    from burntray.model.figures import SourceFigures

    hexai = SourceFigures(
        "hexai",
        "hexai cache",
        SourceStatus("ok"),
        Totals(reqs=42, cost_usd=0.84),
        True,
        cost_estimated=True,
    )
    roder = SourceFigures(  # real tokens, priced from burntray's table: the cost is "est."
        "roder",
        "roder analytics",
        SourceStatus("error", "database is locked", stale=True) if broken else SourceStatus("ok"),
        Totals(reqs=7, cost_usd=3.10),
        cost_estimated=True,
    )
    cburn = SourceFigures(
        "cburn", "cburn daemon", SourceStatus("ok"), Totals(reqs=5, cost_usd=1.0), False, "claude"
    )
    status = (
        SourceStatus("ok", "roder analytics error: database is locked", stale=True, partial=True)
        if broken
        else SourceStatus("ok")
    )
    return snap(
        source="all",
        status=status,
        totals=Totals(reqs=49, rpm=0.82, tokens=40_000, cost_usd=3.94),
        by_source=(hexai, roder, cburn),
    )


def test_all_shows_a_line_per_tool_and_the_top_tools_in_the_tooltip() -> None:
    view = present(_all_snapshot(), Settings(source="all"))
    lines = view.title.splitlines()
    assert lines[:3] == [
        "burntray · all · 1h",
        "49 reqs · 0.82 RPM · $3.94 est.",
        "roder $3.10 · hexai $0.84",  # by cost; the covered cburn is not a top tool
    ]
    assert "hexai cache · 42 reqs · $0.84 est. · ok" in view.header
    assert "roder analytics · 7 reqs · $3.10 est. · ok" in view.header
    assert "cburn daemon · same requests as claude, not added" in view.header
    assert len(view.title) <= 127


def test_all_with_a_broken_tool_is_partly_stale_and_keeps_the_others() -> None:
    view = present(_all_snapshot(broken=True), Settings(source="all"))
    assert view.icon.state == "stale"
    assert "roder analytics · 7 reqs · $3.10 est. · error" in view.header
    (problem,) = view.problems  # one broken tool: its entry, with the whole error below
    assert problem.label == "partly stale: roder analytics error: database is locked"
    assert "49 reqs" in view.title and len(view.title) <= 127
