"""Claude Code's status-line payload: every field optional and type-checked, an absent or null
window unknown (never 0 %), and the per-session records bounded and merged freshest-first."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from burntray.model.limits import FIVE_HOUR_MINUTES, WEEK_MINUTES, PlanWindow
from burntray.sources.claude.observations import plan_windows, read_observations
from burntray.sources.claude.statusline import (
    MAX_AGE_NS,
    MAX_PAYLOAD_BYTES,
    MAX_RECORDS,
    Payload,
    PayloadError,
    parse_payload,
    write_observation,
)
from burntray.sources.claude.statusline_costs import Figures
from burntray.sources.claude.statusline_line import LineInput, parse_parts, render

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "statusline"
NOW_NS = 1_790_000_000 * 10**9


def _payload(**extra: object) -> bytes:
    doc = json.loads((FIXTURES / "ccusage-statusline-test.json").read_text())
    doc.update(extra)
    return json.dumps(doc).encode()


def test_a_real_payload_from_ccusages_repository_is_read_whole() -> None:
    payload = parse_payload((FIXTURES / "ccusage-statusline-test-opus4.json").read_bytes())
    assert payload.session_id == "test-session-opus4"
    assert payload.model_id == "claude-opus-4-1-20250805"
    assert payload.model_name == "Opus 4.1"
    assert payload.cost_usd == pytest.approx(0.0892)
    assert payload.context_input_tokens == 85000
    assert payload.context_size == 200000
    assert payload.project_dir == "/Users/test/project"
    assert payload.limits is None  # the payload predates rate_limits: unknown, not 0 %
    assert payload.ignored == ()


def test_both_windows_are_read_in_unix_seconds() -> None:
    payload = parse_payload(
        _payload(
            rate_limits={
                "five_hour": {"used_percentage": 42.3, "resets_at": 1774036800},
                "seven_day": {"used_percentage": 85.7, "resets_at": 1774580400},
            }
        )
    )
    assert payload.limits is not None
    got = {(r.window_minutes, r.used_percent, r.resets_at_s) for r in payload.limits}
    assert got == {(FIVE_HOUR_MINUTES, 42.3, 1774036800), (WEEK_MINUTES, 85.7, 1774580400)}


@pytest.mark.parametrize(
    ("rate_limits", "windows"),
    [
        ({"five_hour": {"used_percentage": 10, "resets_at": 1774036800}}, {FIVE_HOUR_MINUTES}),
        ({"five_hour": None, "seven_day": {"used_percentage": 5}}, {WEEK_MINUTES}),
        ({}, set()),
        ({"five_hour": {"resets_at": 1774036800}}, set()),  # no figure: unknown
    ],
)
def test_an_absent_or_null_window_is_unknown(rate_limits: object, windows: set[int]) -> None:
    payload = parse_payload(_payload(rate_limits=rate_limits))
    assert payload.limits is not None
    assert {r.window_minutes for r in payload.limits} == windows


@pytest.mark.parametrize("value", [None, "soon", 3])
def test_null_or_mistyped_rate_limits_are_no_data(value: object) -> None:
    assert parse_payload(_payload(rate_limits=value)).limits is None


def test_a_field_of_the_wrong_type_drops_only_that_field() -> None:
    payload = parse_payload(
        _payload(
            model={"id": 7, "display_name": "Sonnet 4"},
            cost={"total_cost_usd": "a lot"},
            context_window=[1, 2],
            session_id=True,
            future_field={"anything": [1]},
        )
    )
    assert payload.model_id is None and payload.model_name == "Sonnet 4"
    assert payload.cost_usd is None and payload.session_id is None
    assert payload.cwd == "/Users/ryoppippi/ghq/github.com/ccusage/ccusage"
    ignored = {"model.id", "cost.total_cost_usd", "context_window", "session_id"}
    assert set(payload.ignored) == ignored


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "no input"),
        (b"   \n", "no input"),
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b"[" * 100_000, "not JSON"),
        (b'{"a": "' + b"x" * MAX_PAYLOAD_BYTES + b'"}', "over"),
    ],
)
def test_what_is_no_payload_says_why(data: bytes, why: str) -> None:
    with pytest.raises(PayloadError, match=why):
        parse_payload(data)


def test_non_finite_or_negative_numbers_are_refused() -> None:
    payload = parse_payload(
        b'{"cost": {"total_cost_usd": -1}, "rate_limits": {"five_hour": '
        b'{"used_percentage": 1e999, "resets_at": 1774036800}}}'
    )
    assert payload.cost_usd is None
    assert payload.limits == ()


def _limits_payload(session: str, used: float, resets_s: int | None) -> Payload:
    window: dict[str, object] = {"used_percentage": used}
    if resets_s is not None:
        window["resets_at"] = resets_s
    return parse_payload(_payload(session_id=session, rate_limits={"five_hour": window}))


def test_the_freshest_session_wins_and_a_passed_reset_resets(tmp_path: Path) -> None:
    folder = tmp_path / "statusline"
    resets = NOW_NS // 10**9 + 3600
    write_observation(folder, _limits_payload("old", 90.0, resets), NOW_NS - 10**9)
    write_observation(folder, _limits_payload("new", 20.0, resets), NOW_NS)
    observations = read_observations(folder)
    assert {o.session_id for o in observations} == {"old", "new"}
    (window,) = plan_windows(observations, NOW_NS)
    assert (window.used_percent, window.origin, window.observed_ns) == (20.0, "official", NOW_NS)
    assert window.resets_at_ns == resets * 10**9
    (later,) = plan_windows(observations, (resets + 1) * 10**9)
    assert later.reset_since_observed and later.used_percent == 0.0


def test_records_are_bounded_in_number_and_age(tmp_path: Path) -> None:
    folder = tmp_path / "statusline"
    write_observation(folder, _limits_payload("ancient", 1.0, None), NOW_NS)
    ancient = folder / "ancient.json"
    os.utime(ancient, ns=(NOW_NS - MAX_AGE_NS - 10**9, NOW_NS - MAX_AGE_NS - 10**9))
    for n in range(MAX_RECORDS + 5):
        write_observation(folder, _limits_payload(f"s{n}", 1.0, None), NOW_NS + n)
    names = {p.name for p in folder.iterdir()}
    assert len(names) == MAX_RECORDS
    assert "ancient.json" not in names


def test_a_session_id_never_becomes_a_path(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "statusline"
    written = write_observation(folder, _limits_payload("../../escape", 1.0, None), NOW_NS)
    assert written.parent == folder
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["statusline"]
    assert [p.name for p in folder.iterdir()] == [written.name]


def test_a_bad_record_is_passed_over(tmp_path: Path) -> None:
    folder = tmp_path / "statusline"
    write_observation(folder, _limits_payload("good", 30.0, None), NOW_NS)
    (folder / "junk.json").write_text("{nope")
    (folder / "big.json").write_text(json.dumps({"v": 1, "pad": "x" * 100_000}))
    (folder / "dir.json").mkdir()
    os.symlink("/dev/zero", folder / "zero.json")
    (window,) = plan_windows(read_observations(folder), NOW_NS)
    assert window.used_percent == 30.0


def _figures(block: object = None) -> Figures:
    return Figures(1.234, 0, 5.5, 0, block, 3)  # type: ignore[arg-type]


def test_the_line_falls_back_to_the_block_when_no_limits_came() -> None:
    payload = parse_payload((FIXTURES / "ccusage-statusline-test-sonnet4.json").read_bytes())
    text = render(LineInput(payload, _figures(), (), NOW_NS))
    assert text == "Sonnet 4 | $1.23 session | $5.50 today | no active block | ctx 18%"


def test_the_line_shows_the_windows_with_colours_only_when_asked() -> None:
    payload = _limits_payload("s", 85.0, NOW_NS // 10**9 + 3600)
    assert plan_windows([], NOW_NS) == ()
    window = PlanWindow("claude", 300, 85.0, NOW_NS + 3600 * 10**9, NOW_NS)
    plain = render(LineInput(payload, _figures(), (window,), NOW_NS), ("limits",))
    assert plain.startswith("5h 85% ↻")
    coloured = render(LineInput(payload, _figures(), (window,), NOW_NS), ("limits",), color=True)
    assert "\x1b[31m85%\x1b[0m" in coloured


def test_show_names_its_parts_and_refuses_unknown_ones() -> None:
    assert parse_parts("today, model,today") == ("today", "model")
    with pytest.raises(ValueError, match="unknown part wat"):
        parse_parts("model,wat")
    with pytest.raises(ValueError, match="none given"):
        parse_parts(",")


def test_a_name_from_stdin_never_breaks_the_line_or_brings_escapes() -> None:
    payload = parse_payload(b'{"model": {"display_name": "Opus\\n4\\u001b[31m!\\u009b"}}')
    assert render(LineInput(payload, None, (), NOW_NS), ("model",)) == "Opus4[31m! | logs not read"


def test_a_window_reported_long_ago_says_its_age() -> None:
    payload = parse_payload(b"{}")
    hour = 3600 * 10**9
    old = PlanWindow("claude", 10080, 30.0, NOW_NS + 48 * hour, NOW_NS - 2 * hour)
    fresh = PlanWindow("claude", 300, 5.0, NOW_NS + hour, NOW_NS - 60 * 10**9)
    text = render(LineInput(payload, _figures(), (fresh, old), NOW_NS), ("limits",))
    assert text.startswith("5h 5% ↻")
    assert "(" not in text.split(" · ")[0]  # a minute old: no age shown
    assert text.split(" · ")[1].endswith("(2h ago)")
