"""The standalone build as users get it: a real PyInstaller onedir, a real .deb and .tar.gz,
the frozen binary run as a process against a real hexai cache, under a real Xvfb.

One build per session (about 10 s on 2 cores: onedir, stripped). Everything here is slow-marked;
CI runs it. A tool missing in CI fails the test; elsewhere it skips with the reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import burntray
from burntray.sources.hexai.writer import hexai_update

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))

import make_package  # noqa: E402 - packaging/make_package.py

# One xdist group: `--dist loadgroup` runs these tests on one worker, so the session fixture
# `built` (the PyInstaller build) is made once, not once per worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pyinstaller-package")]


def _need(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing in CI (apt package {package})")
        pytest.skip(f"{tool} not installed (apt install {package})")
    return path


def _need_pyinstaller() -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("PyInstaller is missing: it is in the dev extra (pip install -e '.[dev]')")
        pytest.skip("PyInstaller not installed (pip install -e '.[package]')")


class Built:
    def __init__(self, onedir: Path, deb: Path, tarball: Path) -> None:
        self.onedir, self.deb, self.tarball = onedir, deb, tarball

    @property
    def exe(self) -> Path:
        return self.onedir / "burntray"


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    if not sys.platform.startswith("linux"):
        pytest.skip("the .deb and .tar.gz are Linux artifacts")
    _need_pyinstaller()
    _need("dpkg-deb", "dpkg")
    _need("strip", "binutils")
    out = tmp_path_factory.mktemp("package")
    # PyInstaller keeps a per-user bytecode/binary cache: point it at this session's tmp too.
    onedir = make_package.build_onedir(
        out / "dist",
        out / "work",
        extra_env={"PYINSTALLER_CONFIG_DIR": str(out / "pyinstaller-config")},
    )
    deb = make_package.build_deb(onedir, out / "dist", out / "work")
    tarball = make_package.build_tarball(onedir, out / "dist")
    return Built(onedir, deb, tarball)


def _run(argv: list[str], env: dict[str, str] | None = None, timeout: float = 60):  # type: ignore[no-untyped-def]
    return subprocess.run(  # noqa: PLW1510 - the exit code is asserted
        argv,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env if env is not None else os.environ.copy(),
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def filled_cache(hexai_dir: Path) -> Path:
    for provider, model, sent, recv in [
        ("openai", "gpt-4.1", 4000, 400),
        ("openai", "gpt-4.1", 12000, 900),
        ("anthropic", "claude-sonnet-4", 8000, 3000),
        ("ollama", "qwen3", 100, 10),
        ("acme", "mystery-1", 50, 5),
    ]:
        hexai_update(hexai_dir, provider, model, sent, recv)
    return hexai_dir


def _figures(stdout: str) -> tuple[object, ...]:
    data = json.loads(stdout)
    return data["source"], data["window"], data["status"]["state"], data["totals"], data["by_model"]


def test_frozen_status_json_equals_the_source_build(built: Built, filled_cache: Path) -> None:
    args = ["status", "--format", "json", "--window", "15m"]
    frozen = _run([str(built.exe), *args])
    source = _run([sys.executable, "-m", "burntray", *args])
    assert frozen.returncode == 0, frozen.stderr
    assert source.returncode == 0, source.stderr
    assert _figures(frozen.stdout) == _figures(source.stdout)
    totals = json.loads(frozen.stdout)["totals"]
    assert (totals["reqs"], totals["sent"], totals["recv"]) == (5, 24150, 4315)
    assert totals["unpriced_reqs"] == 1


def test_frozen_status_prints_text_and_tmux(built: Built, filled_cache: Path) -> None:
    for fmt in ("text", "tmux"):
        frozen = _run([str(built.exe), "status", "--format", fmt])
        source = _run([sys.executable, "-m", "burntray", "status", "--format", fmt])
        assert frozen.returncode == 0, frozen.stderr
        assert frozen.stdout == source.stdout and frozen.stdout.strip()


def test_frozen_report_equals_the_source_build(
    built: Built, filled_cache: Path, tmp_path: Path
) -> None:
    reports = {}
    for name, argv in (
        ("frozen", [str(built.exe)]),
        ("source", [sys.executable, "-m", "burntray"]),
    ):
        for fmt in ("json", "html"):
            out = tmp_path / f"{name}.{fmt}"
            result = _run([*argv, "report", "--format", fmt, "--out", str(out)])
            assert result.returncode == 0, result.stderr
            reports[name, fmt] = out.read_text(encoding="utf-8")
    frozen, source = json.loads(reports["frozen", "json"]), json.loads(reports["source", "json"])
    for key in ("totals", "by_model", "window", "source"):
        assert frozen[key] == source[key], key
    assert reports["frozen", "html"].lstrip().lower().startswith("<!doctype html")
    for model in ("gpt-4.1", "claude-sonnet-4", "mystery-1"):
        assert model in reports["frozen", "html"]


def test_frozen_version_matches_the_package(built: Built) -> None:
    result = _run([str(built.exe), "--version"])
    assert result.stdout.strip() == f"burntray {burntray.__version__}"


@pytest.fixture
def xvfb() -> Iterator[str]:
    """A private 24-bit Xvfb; yields its DISPLAY (the server picks a free number)."""
    binary = _need("Xvfb", "xvfb")
    read_fd, write_fd = os.pipe()
    # -noreset: by default an X server resets when its last client leaves and drops the
    # connections that arrive meanwhile ("Connection reset by peer"), which a loaded machine
    # (parallel tests) hits when the self-test opens its second connection.
    proc = subprocess.Popen(
        [
            binary,
            "-displayfd",
            str(write_fd),
            "-noreset",
            "-screen",
            "0",
            "640x480x24",
            "-nolisten",
            "tcp",
        ],
        pass_fds=(write_fd,),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            # Xvfb writes the display number once it accepts connections; EOF means it died.
            number = pipe.readline().strip()
        if not number:
            pytest.fail(f"Xvfb exited before it was ready (code {proc.wait(timeout=10)})")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_frozen_self_test_passes_under_xvfb(
    built: Built, filled_cache: Path, xvfb: str, isolated_env: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYSTRAY_BACKEND"}
    env["DISPLAY"] = xvfb
    result = _run([str(built.exe), "--self-test"], env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"frozen build at {built.exe}" in out
    assert re.search(
        r"^  ok    source hexai +\d+ ms  ok \(in use\): 5 events, 5 reqs in 1h$", out, re.M
    )
    # No GTK in the default build, no tray host needed to create the icon: pystray's xorg.
    # the dated price file is package data: it must be in the frozen build
    assert re.search(
        r"^  ok    prices +\d+ ms  price file prices-\d{4}-\d\d-\d\d\.json: \d+ price keys$",
        out,
        re.M,
    )
    assert "pystray backend 'xorg' loaded (auto-selected)" in out
    assert "desktop-notifier backend DBusDesktopNotifier loaded" in out  # alerts' notifier
    assert out.splitlines()[-1].startswith("self-test passed in ")


def test_frozen_self_test_checks_the_terminal_view_without_a_display(built: Built) -> None:
    """A headless server shows the terminal view (documented): that is what is checked."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYSTRAY_BACKEND", "DISPLAY")}
    result = _run([str(built.exe), "--self-test"], env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "  ok    view " in result.stdout and "terminal view (no tray here: " in result.stdout
    assert result.stdout.splitlines()[-1].endswith("(view checked: terminal view)")


def test_frozen_autostart_registers_the_frozen_binary(built: Built, isolated_env: Path) -> None:
    result = _run([str(built.exe), "autostart", "on"])
    assert result.returncode == 0, result.stderr
    entry = isolated_env / "xdg-config" / "autostart" / "burntray.desktop"
    assert f"Exec={built.exe}\n" in entry.read_text()
    assert _run([str(built.exe), "autostart", "off"]).returncode == 0
    assert not entry.exists()


def test_deb_unpacks_to_the_expected_layout(built: Built, tmp_path: Path) -> None:
    assert (
        built.deb.name == f"burntray_{burntray.__version__}_{make_package.deb_architecture()}.deb"
    )
    fields = _run(["dpkg-deb", "--field", str(built.deb), "Package", "Version", "Architecture"])
    assert fields.stdout.splitlines() == [
        "Package: burntray",
        f"Version: {burntray.__version__}",
        f"Architecture: {make_package.deb_architecture()}",
    ]
    depends = _run(["dpkg-deb", "--field", str(built.deb), "Depends"]).stdout.strip()
    glibc = os.confstr("CS_GNU_LIBC_VERSION").split()[-1]  # type: ignore[union-attr]
    assert depends == f"libc6 (>= {glibc})"  # the frozen binary needs the build's glibc
    listing = _run(["dpkg-deb", "--contents", str(built.deb)]).stdout
    owners = {line.split()[1] for line in listing.splitlines()}
    assert owners == {"root/root"}

    root = tmp_path / "root"
    assert _run(["dpkg-deb", "-x", str(built.deb), str(root)]).returncode == 0
    link = root / "usr/bin/burntray"
    assert link.is_symlink() and os.readlink(link) == "/opt/burntray/burntray"
    assert os.access(root / "opt/burntray/burntray", os.X_OK)
    assert (root / "opt/burntray/_internal").is_dir()
    for size in make_package.HICOLOR_SIZES:
        assert (root / f"usr/share/icons/hicolor/{size}x{size}/apps/burntray.png").is_file()
    desktop = root / "usr/share/applications/io.github.burntray.desktop"
    metainfo = root / "usr/share/metainfo/io.github.burntray.metainfo.xml"
    assert (root / "usr/share/doc/burntray/copyright").is_file()
    # No GTK bundled in the default variant.
    assert not list((root / "opt/burntray/_internal").glob("gi*"))
    assert not list((root / "opt/burntray/_internal").glob("libgtk*"))

    validate = _run([_need("desktop-file-validate", "desktop-file-utils"), str(desktop)])
    assert validate.returncode == 0 and not validate.stdout.strip(), validate.stdout
    appstream = _run([_need("appstreamcli", "appstream"), "validate", "--no-net", str(metainfo)])
    assert appstream.returncode == 0, appstream.stdout + appstream.stderr

    unpacked = _run([str(root / "opt/burntray/burntray"), "--version"])
    assert unpacked.stdout.strip() == f"burntray {burntray.__version__}"
    size_mb = built.deb.stat().st_size / 1e6
    assert size_mb < 60, f".deb is {size_mb:.1f} MB: something large was bundled"


def test_tarball_runs_from_wherever_it_is_unpacked(built: Built, tmp_path: Path) -> None:
    with tarfile.open(built.tarball) as tar:
        names = tar.getnames()
        assert all(m.uid == 0 and m.gid == 0 for m in tar.getmembers())
        tar.extractall(tmp_path, filter="tar")
    top = f"burntray-{burntray.__version__}-linux-{os.uname().machine}"
    assert f"{top}/burntray/burntray" in names
    assert f"{top}/share/io.github.burntray.desktop" in names
    result = _run([str(tmp_path / top / "burntray" / "burntray"), "--version"])
    assert result.stdout.strip() == f"burntray {burntray.__version__}"


def test_release_smoke_script_passes_on_the_frozen_build(
    built: Built, xvfb: str, isolated_env: Path
) -> None:
    """packaging/smoke_test.py is what the release workflow runs on every OS: run it here."""
    env = {k: v for k, v in os.environ.items() if k != "PYSTRAY_BACKEND"}
    env["DISPLAY"] = xvfb
    result = _run(
        [sys.executable, str(ROOT / "packaging" / "smoke_test.py"), str(built.exe)],
        env=env,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("smoke test passed")
    assert "ok: same numbers as source" in result.stdout
    assert "ok: --self-test passes" in result.stdout


def test_frozen_app_survives_without_stdout_and_stderr(built: Built, filled_cache: Path) -> None:
    """Windowed builds (burntrayw.exe, the .app) start with no std streams; the runtime hook
    gives them the null device. Closing fds 1 and 2 recreates that state here (Python then sets
    sys.stdout/sys.stderr to None); the source build, without the hook, fails the same way."""

    def close_std_streams() -> None:
        os.close(1)
        os.close(2)

    for argv, expected in (
        ([str(built.exe), "status"], 0),
        ([sys.executable, "-m", "burntray", "status"], 1),
    ):
        code = subprocess.run(  # noqa: PLW1510 - the exit code is asserted
            argv,
            stdin=subprocess.DEVNULL,
            preexec_fn=close_std_streams,
            timeout=60,
        ).returncode
        assert code == expected, argv
