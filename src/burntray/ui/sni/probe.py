"""Is there a StatusNotifierItem panel to show an icon in? A bounded, side-effect-free check."""

from __future__ import annotations

import asyncio
import os
import threading

WATCHER_NAME = "org.kde.StatusNotifierWatcher"
PROBE_TIMEOUT_S = 1.0


async def _watcher_owned(bus_address: str) -> bool:
    from dbus_fast import Message  # noqa: PLC0415 (lazy: the probe must stay cheap)
    from dbus_fast.aio import MessageBus  # noqa: PLC0415

    bus = await MessageBus(bus_address=bus_address).connect()
    try:
        reply = await bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="NameHasOwner",
                signature="s",
                body=[WATCHER_NAME],
            )
        )
        return bool(reply.body and reply.body[0])
    finally:
        bus.disconnect()


def _run_bounded(bus_address: str, timeout_s: float) -> bool:
    """Run the check on a fresh event loop in a helper thread (the caller may have a loop)."""
    outcome: list[bool | BaseException] = []

    def probe() -> None:
        try:
            outcome.append(asyncio.run(asyncio.wait_for(_watcher_owned(bus_address), timeout_s)))
        except BaseException as error:  # handed back to the caller's thread below
            outcome.append(error)

    thread = threading.Thread(target=probe, name="burntray-sni-probe", daemon=True)
    thread.start()
    thread.join(timeout_s + 0.5)
    if not outcome:
        raise TimeoutError(f"no answer within {timeout_s:g} s")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def sni_available(
    bus_address: str | None = None, timeout_s: float = PROBE_TIMEOUT_S
) -> tuple[bool, str]:
    """(True, "") when the session bus answers and a StatusNotifierWatcher owns its name.

    Otherwise (False, why): no bus address, bus unreachable, or no panel's watcher on it.
    """
    address = bus_address or os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    if not address:
        return False, "DBUS_SESSION_BUS_ADDRESS is not set: no session bus"
    try:
        import dbus_fast  # noqa: F401, PLC0415
    except ImportError:
        return False, "the dbus-fast package is not installed"
    try:
        owned = _run_bounded(address, timeout_s)
    except TimeoutError:
        return False, f"session bus at {address} did not answer within {timeout_s:g} s"
    except Exception as error:
        return False, f"cannot connect to the session bus at {address}: {error}"
    if not owned:
        return False, f"no {WATCHER_NAME} on the session bus (no StatusNotifierItem panel running)"
    return True, f"{WATCHER_NAME} is on the session bus"
