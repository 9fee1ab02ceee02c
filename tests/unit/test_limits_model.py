"""The plan-window rules: freshest observation wins, a passed reset resets, unknown stays absent."""

from __future__ import annotations

from burntray.model.limits import PlanWindow, current_windows, window_label

S = 1_000_000_000


def _win(tool: str, minutes: int, used: float, resets: int | None, seen: int) -> PlanWindow:
    return PlanWindow(tool, minutes, used, resets, seen, source=tool)


def test_freshest_observation_of_a_window_wins_across_sessions() -> None:
    old = _win("claude", 300, 80.0, 10_000 * S, 100 * S)
    new = _win("claude", 300, 42.0, 10_000 * S, 200 * S)
    (win,) = current_windows([new, old], now_ns=300 * S)
    assert win.used_percent == 42.0
    assert win.age_ns(300 * S) == 100 * S


def test_a_passed_reset_reads_zero_and_says_so() -> None:
    win = _win("codex", 300, 97.0, 500 * S, 100 * S)
    (shown,) = current_windows([win], now_ns=500 * S)
    assert (shown.used_percent, shown.resets_at_ns, shown.reset_since_observed) == (0.0, None, True)
    (kept,) = current_windows([win], now_ns=499 * S)
    assert (kept.used_percent, kept.reset_since_observed) == (97.0, False)


def test_unknown_windows_stay_absent_and_order_is_stable() -> None:
    wins = current_windows(
        [_win("codex", 10080, 41.0, None, 1), _win("claude", 300, 3.0, None, 1)], now_ns=2
    )
    assert [(w.tool, w.window) for w in wins] == [("claude", "5h"), ("codex", "weekly")]
    assert current_windows([], now_ns=2) == ()


def test_window_labels_by_length() -> None:
    assert [window_label(m) for m in (300, 10080, 1440, 120, 90)] == [
        "5h",
        "weekly",
        "1d",
        "2h",
        "90m",
    ]


def test_pace_is_the_rise_since_the_period_began() -> None:
    from burntray.model.limits import runs_out_before_reset, runs_out_ns, with_rise

    minute = 60 * S
    first = _win("codex", 300, 20.0, 200 * minute, 0)
    later = with_rise(first, _win("codex", 300, 50.0, 200 * minute, 30 * minute))
    assert (later.rise_from_ns, later.rise_from_percent) == (0, 20.0)
    # 30 % in 30 min: the 50 % left lasts 50 min
    assert runs_out_ns(later) == 80 * minute
    assert runs_out_before_reset(later) == 80 * minute
    # the rise carries over to a third report of the same period
    third = with_rise(later, _win("codex", 300, 60.0, 200 * minute + 30 * S, 40 * minute))
    assert third.rise_from_ns == 0
    # a new period (another reset, lower use) starts the rise again: no pace yet
    fresh = with_rise(third, _win("codex", 300, 2.0, 500 * minute, 210 * minute))
    assert fresh.rise_from_ns is None and runs_out_ns(fresh) is None


def test_no_pace_from_a_short_or_flat_rise_and_a_slow_one_lasts() -> None:
    from burntray.model.limits import runs_out_before_reset, runs_out_ns, with_rise

    minute = 60 * S
    first = _win("codex", 300, 20.0, 300 * minute, 0)
    short = with_rise(first, _win("codex", 300, 30.0, 300 * minute, 5 * minute))
    flat = with_rise(first, _win("codex", 300, 20.0, 300 * minute, 60 * minute))
    assert runs_out_ns(short) is None and runs_out_ns(flat) is None
    slow = with_rise(first, _win("codex", 300, 21.0, 300 * minute, 60 * minute))
    assert runs_out_ns(slow) is not None and runs_out_before_reset(slow) is None
