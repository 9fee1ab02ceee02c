"""Backend choice with its reason, for the cases that need no display (see the integration
tests for a real X display with and without a tray)."""

from __future__ import annotations

import importlib.util

from burntray.ui.backend import TERMINAL, choose_backend


def test_no_display_means_the_terminal_view() -> None:
    choice = choose_backend({}, platform="linux")
    assert choice.name == TERMINAL
    assert choice.reason == (
        "no display ($DISPLAY and $WAYLAND_DISPLAY are not set) and "
        "DBUS_SESSION_BUS_ADDRESS is not set: no session bus"
    )
    assert not choice.has_menu


def test_dummy_backend_is_not_a_tray() -> None:
    choice = choose_backend({"PYSTRAY_BACKEND": "dummy", "DISPLAY": ":0"}, platform="linux")
    assert choice.name == TERMINAL and "dummy" in choice.reason


def test_forced_backend_is_honoured_and_says_so() -> None:
    choice = choose_backend({"PYSTRAY_BACKEND": "xorg"}, platform="linux")
    assert (choice.name, choice.reason) == ("xorg", "PYSTRAY_BACKEND=xorg is set")
    assert not choice.has_menu and not choice.marshals_to_loop
    assert choose_backend({"PYSTRAY_BACKEND": "gtk"}, platform="linux").marshals_to_loop


def test_windows_and_macos_use_native_backends() -> None:
    assert choose_backend({}, platform="win32").name == "win32"
    mac = choose_backend({}, platform="darwin")
    assert mac.name == "darwin" and "main thread" in mac.reason


def test_wayland_without_an_sni_host_explains_itself() -> None:
    env = {"WAYLAND_DISPLAY": "wayland-0", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent"}
    choice = choose_backend(env, platform="linux")
    if importlib.util.find_spec("burntray.ui.sni") is None:
        assert choice.name == TERMINAL
        assert choice.reason.startswith("Wayland without a StatusNotifierItem host")


def test_unreachable_display_is_named() -> None:
    choice = choose_backend({"DISPLAY": ":9876"}, platform="linux")
    assert choice.name == TERMINAL
    assert choice.reason.startswith("cannot open display :9876")
