"""An identical warning is logged once, then at most every 10 minutes, with the count left out."""

from __future__ import annotations

import io
import logging

from burntray.config import Settings
from burntray.logsetup import REPEAT_INTERVAL_S, RepeatThrottle, setup_logging
from burntray.paths import app_paths
from burntray.runtime.monitor import Monitor
from burntray.sources.base import Source


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttled_logger(clock: FakeClock) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RepeatThrottle(clock=clock))
    logger = logging.getLogger(f"burntray.test.throttle.{id(out)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    return logger, out


def test_identical_error_once_then_every_ten_minutes_with_a_count() -> None:
    clock = FakeClock()
    logger, out = throttled_logger(clock)
    for _ in range(600):  # ten minutes of a 1 s tick
        logger.error("price file %s: not valid JSON", "/p.json")
        clock.now += 0.999
    assert out.getvalue().splitlines() == ["ERROR price file /p.json: not valid JSON"]
    clock.now = 1000.0 + REPEAT_INTERVAL_S
    logger.error("price file %s: not valid JSON", "/p.json")
    assert out.getvalue().splitlines()[1:] == [
        "ERROR price file /p.json: not valid JSON [repeated 599 times since last logged]"
    ]


def test_different_messages_levels_and_info_are_not_merged() -> None:
    clock = FakeClock()
    logger, out = throttled_logger(clock)
    for _ in range(3):
        logger.warning("daemon offline: connection refused")
        logger.warning("daemon offline: timed out")
        logger.error("daemon offline: connection refused")
        logger.info("tray: window set to 5m")  # events, never throttled
    assert out.getvalue().splitlines() == [
        "WARNING daemon offline: connection refused",
        "WARNING daemon offline: timed out",
        "ERROR daemon offline: connection refused",
        "INFO tray: window set to 5m",
        "INFO tray: window set to 5m",
        "INFO tray: window set to 5m",
    ]


def test_same_text_with_a_different_exception_is_a_different_message() -> None:
    clock = FakeClock()
    logger, out = throttled_logger(clock)
    for exc in (ValueError("a"), ValueError("a"), KeyError("b")):
        try:
            raise exc
        except Exception:
            logger.exception("monitor tick failed")
    text = out.getvalue()
    assert text.count("ERROR monitor tick failed") == 2
    assert text.count("Traceback") == 2
    assert "ValueError: a" in text and "KeyError: 'b'" in text


class ExplodingSource:
    """A source whose every poll fails the same way (a bug, a broken library...)."""

    name = "exploding"
    label = "exploding"

    def start(self, wake: object) -> None:
        pass

    def poll(self) -> bool:
        raise RuntimeError("the same failure every tick")

    def close(self) -> None:
        pass


def test_a_failure_on_every_monitor_tick_is_one_line_in_the_log_file(
    clean_root_logger: None,
) -> None:
    paths = app_paths()
    setup_logging(paths)
    source = ExplodingSource()
    monitor = Monitor(Settings(), lambda _s: source)  # type: ignore[arg-type, return-value]
    for _ in range(300):
        monitor.tick()
    for handler in logging.getLogger().handlers:
        handler.flush()
    log_text = paths.log_file.read_text()
    assert log_text.count("monitor tick failed") == 1, log_text[:2000]
    assert log_text.count("Traceback") == 1
    snap = monitor.slot.get()[1]
    assert snap is not None and snap.status.state == "error"  # still shown every tick


def test_setting_up_twice_does_not_double_lines(clean_root_logger: None) -> None:
    paths = app_paths()
    setup_logging(paths)
    setup_logging(paths)  # the tray failing over to the terminal view does this
    logging.getLogger("burntray.test").warning("once")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert paths.log_file.read_text().count("once") == 1


_ = Source  # the protocol ExplodingSource stands in for
