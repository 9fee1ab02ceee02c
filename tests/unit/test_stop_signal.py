"""A stop signal the kernel gave to another thread still reaches the main thread's wait.

The kernel hands a process's signal to any of its threads; Python runs the handler on the main
thread only. A tray whose main thread waited on an Event with no timeout never heard a SIGTERM
that another thread took (CI saw it: ``burntray run`` killed after 60 s). Here the signal is
sent to a named worker thread (``pthread_kill``), which is exactly that case, in a fresh
interpreter of its own (under pytest the main thread's wait was woken anyway, so the case
could not fail there)."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from burntray.runtime.session import SIGNAL_CHECK_S

GUARD_S = 10.0  # far above SIGNAL_CHECK_S: only a wait that never lets the handler in hits it

_SCENARIO = f"""
import signal, sys, threading
from burntray.runtime.session import wait_for_stop

stop = threading.Event()
signal.signal(signal.SIGUSR1, lambda _s, _f: stop.set())
release = threading.Event()
worker = threading.Thread(target=release.wait, daemon=True)
worker.start()
handled_in_time = []


def main_thread_waits():
    # inside wait_for_stop, in threading's wait (not, say, in sender.start()'s own wait)
    frame = sys._current_frames().get(threading.main_thread().ident)
    names = []
    while frame is not None:
        names.append(frame.f_code.co_name)
        frame = frame.f_back
    return names[:1] == ["wait"] and "wait_for_stop" in names


def send_when_the_main_thread_waits():
    # the signal must come while the main thread is blocked in its wait, or the handler would
    # run before the wait and prove nothing
    polled = threading.Event()
    while not main_thread_waits() and not polled.wait(0.001):
        pass
    signal.pthread_kill(worker.ident, signal.SIGUSR1)
    handled_in_time.append(stop.wait({GUARD_S}))
    stop.set()  # a main thread that never heard it: end its wait all the same


sender = threading.Thread(target=send_when_the_main_thread_waits, daemon=True)
sender.start()
wait_for_stop(stop)
sender.join()
release.set()
print(handled_in_time)
"""


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX threads only")
def test_a_signal_taken_by_another_thread_ends_the_main_threads_wait() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCENARIO],
        capture_output=True,
        text=True,
        timeout=GUARD_S * 3,
        check=True,
    )
    assert done.stdout.strip() == "[True]", done.stdout + done.stderr
    assert SIGNAL_CHECK_S < GUARD_S
