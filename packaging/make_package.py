"""Build burntray's standalone artifacts for the OS this runs on (``make package``).

    python packaging/make_package.py [--dist DIR] [--reuse-onedir] [--variant default|gtk]

- Linux: the PyInstaller onedir, a ``.deb`` (files under /opt/burntray, /usr/bin/burntray, a
  desktop entry, hicolor icons, AppStream metainfo) and a portable ``.tar.gz``.
- Windows: the onedir (burntray.exe console + burntrayw.exe windowed), then the Inno Setup
  installer when ``iscc`` is on PATH.
- macOS: burntray.app (LSUIElement), then the .dmg (packaging/macos/build_dmg.sh).

Only the standard library is used here; PyInstaller runs as ``python -m PyInstaller`` with the
same interpreter (``pip install -e '.[package]'``). Archives are written with sorted entries,
root ownership and a fixed mtime (``SOURCE_DATE_EPOCH`` or the version's release date), so the
same onedir gives the same .tar.gz.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "pyinstaller" / "burntray.spec"
ICONS = ROOT / "assets" / "app"
HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
APP_ID = "io.github.burntray"
DEB_MAINTAINER = "burntray developers <burntray@users.noreply.github.com>"


class BuildError(RuntimeError):
    """A build step failed; the message says which and why."""


def version() -> str:
    """burntray.__version__, read from the source (the one version source) without importing."""
    text = (ROOT / "src" / "burntray" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if not match:
        raise BuildError("no __version__ in src/burntray/__init__.py")
    return match.group(1)


def _run(argv: list[str], **kwargs: object) -> None:
    print("+", " ".join(argv), flush=True)
    result = subprocess.run(argv, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise BuildError(f"{argv[0]} failed with exit code {result.returncode}")


def build_onedir(
    dist: Path,
    work: Path,
    variant: str = "default",
    strip: bool = True,
    extra_env: dict[str, str] | None = None,
) -> Path:
    """Run PyInstaller on the spec; returns ``dist/burntray`` (on macOS burntray.app is beside
    it). ``extra_env`` is added to PyInstaller's environment."""
    env = dict(os.environ, BURNTRAY_VARIANT=variant, **(extra_env or {}))
    if sys.platform.startswith("linux"):
        env["BURNTRAY_STRIP"] = "1" if strip else "0"
    _run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(dist),
            "--workpath",
            str(work),
            str(SPEC),
        ],
        env=env,
    )
    onedir = dist / "burntray"
    if not (onedir / _exe_name("burntray")).exists():
        raise BuildError(f"PyInstaller ran but {onedir / _exe_name('burntray')} is missing")
    return onedir


def _exe_name(stem: str) -> str:
    return stem + ".exe" if sys.platform == "win32" else stem


def release_mtime() -> int:
    """Timestamp stamped on archive members: SOURCE_DATE_EPOCH, else the metainfo release date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        return int(epoch)
    metainfo = (PACKAGING / "linux" / f"{APP_ID}.metainfo.xml").read_text(encoding="utf-8")
    match = re.search(r'<release version="[^"]+" date="(\d{4}-\d{2}-\d{2})"', metainfo)
    if not match:
        return 0
    return int(time.mktime(time.strptime(match.group(1) + " 12", "%Y-%m-%d %H")))


def deb_architecture() -> str:
    try:
        out = subprocess.run(
            ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def _glibc_version() -> str:
    """The build machine's glibc: the frozen binary and its libraries need at least this one."""
    name = os.confstr("CS_GNU_LIBC_VERSION") or "glibc 2.31"
    return name.split()[-1]


def _copy_file(src: Path, dest: Path, mode: int = 0o644) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    dest.chmod(mode)


def stage_deb_root(onedir: Path, root: Path, ver: str, arch: str) -> Path:
    """Lay out the package tree under ``root`` (including DEBIAN/control)."""
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(onedir, root / "opt" / "burntray", symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "burntray").symlink_to("/opt/burntray/burntray")
    share = root / "usr" / "share"
    _copy_file(
        PACKAGING / "linux" / f"{APP_ID}.desktop", share / "applications" / f"{APP_ID}.desktop"
    )
    _copy_file(
        PACKAGING / "linux" / f"{APP_ID}.metainfo.xml",
        share / "metainfo" / f"{APP_ID}.metainfo.xml",
    )
    for size in HICOLOR_SIZES:
        _copy_file(
            ICONS / f"burntray-{size}.png",
            share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "burntray.png",
        )
    _copy_file(PACKAGING / "linux" / "copyright", share / "doc" / "burntray" / "copyright")
    for path in root.rglob("*"):  # dpkg wants sane modes whatever the build's umask was
        if path.is_symlink():
            continue
        if path.is_dir() or path.stat().st_mode & 0o111:
            path.chmod(0o755)
        else:
            path.chmod(0o644)
    installed_kib = sum(
        (p.lstat().st_size + 1023) // 1024 for p in root.rglob("*") if not p.is_dir()
    )
    control = (
        f"Package: burntray\n"
        f"Version: {ver}\n"
        f"Architecture: {arch}\n"
        f"Maintainer: {DEB_MAINTAINER}\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: libc6 (>= {_glibc_version()})\n"
        "Recommends: hicolor-icon-theme\n"
        "Section: utils\n"
        "Priority: optional\n"
        "Homepage: https://github.com/burntray/burntray\n"
        "Description: LLM usage in the system tray: requests, RPM, tokens and cost\n"
        " burntray shows what your LLM tools are burning right now, read from the usage\n"
        " records they keep on this machine (hexai's stats cache, the cburn daemon).\n"
        " Standalone build: Python and its libraries are bundled under /opt/burntray.\n"
    )
    (root / "DEBIAN").mkdir(mode=0o755)
    (root / "DEBIAN" / "control").write_text(control, encoding="utf-8")
    return root


def build_deb(onedir: Path, out_dir: Path, work: Path) -> Path:
    """``burntray_<version>_<arch>.deb`` from the onedir (zstd: 0.1 s; xz would take 10 s)."""
    if shutil.which("dpkg-deb") is None:
        raise BuildError(
            "dpkg-deb not found: the .deb is built on Debian/Ubuntu (apt install dpkg)"
        )
    ver, arch = version(), deb_architecture()
    root = stage_deb_root(onedir, work / "deb-root", ver, arch)
    out_dir.mkdir(parents=True, exist_ok=True)
    deb = out_dir / f"burntray_{ver}_{arch}.deb"
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(release_mtime()))
    _run(
        ["dpkg-deb", "--build", "--root-owner-group", "-Zzstd", str(root), str(deb)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return deb


def build_tarball(onedir: Path, out_dir: Path) -> Path:
    """A portable ``burntray-<version>-linux-<machine>.tar.gz``: unpack anywhere, run
    ``burntray/burntray``; the desktop entry and icon ride along for manual integration."""
    ver = version()
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"burntray-{ver}-linux-{platform.machine()}"
    tarball = out_dir / f"{name}.tar.gz"
    mtime = release_mtime()
    extras = {
        f"{name}/share/{APP_ID}.desktop": PACKAGING / "linux" / f"{APP_ID}.desktop",
        f"{name}/share/burntray.png": ICONS / "burntray-256.png",
    }

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = mtime
        return info

    with tarfile.open(tarball, "w:gz", compresslevel=6) as tar:
        members = sorted([onedir, *onedir.rglob("*")])
        for path in members:
            arcname = f"{name}/burntray" + (
                "" if path == onedir else "/" + path.relative_to(onedir).as_posix()
            )
            tar.add(path, arcname=arcname, recursive=False, filter=normalise)
        for arcname, src in sorted(extras.items()):
            tar.add(src, arcname=arcname, recursive=False, filter=normalise)
    return tarball


def tree_size(path: Path) -> int:
    """Bytes in a file or a tree, symlinks counted as links (not followed), like ``du -b``."""
    if not path.is_dir():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if not p.is_dir() or p.is_symlink())


def build_for_this_os(dist: Path, work: Path, reuse: bool, variant: str) -> list[Path]:
    onedir = dist / "burntray"
    if not (reuse and (onedir / _exe_name("burntray")).exists()):
        onedir = build_onedir(dist, work / "pyinstaller", variant)
    if sys.platform.startswith("linux"):
        return [onedir, build_deb(onedir, dist, work), build_tarball(onedir, dist)]
    if sys.platform == "win32":
        iscc = shutil.which("iscc") or shutil.which("ISCC")
        if iscc is None:
            print("iscc (Inno Setup 6) not on PATH: installer skipped", file=sys.stderr)
            return [onedir]
        _run(
            [
                iscc,
                f"/DAppVersion={version()}",
                f"/DSourceDir={onedir}",
                f"/DOutputDir={dist}",
                str(PACKAGING / "windows" / "burntray.iss"),
            ]
        )
        return [onedir, dist / f"burntray-{version()}-setup.exe"]
    if sys.platform == "darwin":
        app = dist / "burntray.app"
        dmg = dist / f"burntray-{version()}-macos.dmg"
        _run(["bash", str(PACKAGING / "macos" / "build_dmg.sh"), str(app), str(dmg)])
        return [app, dmg]
    return [onedir]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output dir")
    parser.add_argument("--work", type=Path, default=ROOT / "build", help="scratch dir")
    parser.add_argument(
        "--reuse-onedir", action="store_true", help="package an existing dist/burntray as is"
    )
    parser.add_argument(
        "--variant",
        choices=("default", "gtk"),
        default="default",
        help="gtk: bundle PyGObject for pystray's gtk/appindicator backends (needs burntray[gtk])",
    )
    args = parser.parse_args(argv)
    try:
        artifacts = build_for_this_os(args.dist, args.work, args.reuse_onedir, args.variant)
    except BuildError as exc:
        print(f"build: {exc}", file=sys.stderr)
        return 1
    for path in artifacts:
        print(f"{path}  {tree_size(path) / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
