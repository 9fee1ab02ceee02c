"""burntray's own directories, and the helpers a tool's path rule is built from (each tool's
rule itself lives in its source's folder: ``sources/<name>/paths.py``).

Nothing here touches the disk at import or when resolving; directories are created by the code
that writes into them (``ensure_dir``). ``BURNTRAY_HOME`` moves all of burntray's own dirs under
one folder (tests and development use it; nothing else reads the real user dirs then).

burntray's own files say what the user ran, when and at what cost, so they are private: dirs
0700, files 0600 (``ensure_dir``, ``ensure_private_file``), and a file or dir left looser by an
older version or another tool is tightened when burntray opens it (``tighten``).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

from msgspec import Struct

from burntray.io.atomic import UnsafePathError, kind_of
from burntray.io.bounded_read import check_regular_file
from burntray.lazylog import get_logger

APP_NAME = "burntray"


class AppPaths(Struct, frozen=True):
    """burntray's own folders: config, data (the history), cache and log."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def history_db(self) -> Path:
        return self.data_dir / "history.sqlite3"

    @property
    def reports_dir(self) -> Path:
        return self.cache_dir / "reports"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "burntray.log"


def app_paths(env: Mapping[str, str] | None = None) -> AppPaths:
    """burntray's own dirs: platformdirs for app ``burntray``, or all under ``$BURNTRAY_HOME``."""
    env = os.environ if env is None else env
    home = env.get("BURNTRAY_HOME", "").strip()
    if home:
        root = Path(home).expanduser()
        return AppPaths(root / "config", root / "data", root / "cache", root / "log")
    xdg = _plain_xdg_dirs()
    if xdg is not None:
        return AppPaths(*(Path(d) for d in xdg))
    import platformdirs  # noqa: PLC0415 - only when the real dirs are wanted

    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    return AppPaths(
        Path(dirs.user_config_dir),
        Path(dirs.user_data_dir),
        Path(dirs.user_cache_dir),
        Path(dirs.user_log_dir),
    )


_XDG_DEFAULTS = (  # as platformdirs' Unix rule: the variable when absolute, else the default
    ("XDG_CONFIG_HOME", "~/.config"),
    ("XDG_DATA_HOME", "~/.local/share"),
    ("XDG_CACHE_HOME", "~/.cache"),
    ("XDG_STATE_HOME", "~/.local/state"),
)


def _plain_xdg_dirs() -> tuple[str, str, str, str] | None:
    """platformdirs' Linux answer (config, data, cache, log) in the plain case - an absolute
    ``HOME``, each XDG variable unset, empty or absolute, not Android - computed here: importing
    platformdirs (with its tempfile, shutil, random and compression modules) was a tenth of
    ``status --format tmux``. Like platformdirs it reads ``os.environ``. None otherwise:
    platformdirs answers every other case (a relative value, another system)."""
    environ = os.environ
    if sys.platform != "linux" or hasattr(sys, "getandroidapilevel"):
        return None
    if "ANDROID_DATA" in environ or "ANDROID_ROOT" in environ:
        return None
    if not environ.get("HOME", "").startswith("/"):
        return None
    dirs = []
    for var, default in _XDG_DEFAULTS:
        value = environ.get(var, "")
        if value and not value.startswith("/"):
            return None
        dirs.append(os.path.join(value or os.path.expanduser(default), APP_NAME))
    config, data, cache, state = dirs
    return config, data, cache, os.path.join(state, "log")


PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
_GROUP_OTHER = 0o077

log = get_logger(__name__)


def tighten(path: Path) -> None:
    """Take group and other access away from ``path`` if it exists (0644 -> 0600, 0755 ->
    0700). A failure is logged, never raised: a file burntray cannot chmod is still usable.
    Only the user's own regular files and folders are changed, through a descriptor opened
    without following links: a symbolic link put in burntray's folders never redirects the
    chmod to its target. Windows modes carry no access rights, so nothing is done there."""
    if os.name == "nt":
        return
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        log.warning("cannot make %s private: %s", path, exc.strerror or exc)
        return
    if stat.S_ISLNK(info.st_mode):
        log.warning("%s is a symbolic link; burntray does not follow links in its folders", path)
        return
    is_dir = stat.S_ISDIR(info.st_mode)
    mode = stat.S_IMODE(info.st_mode)
    if not (is_dir or stat.S_ISREG(info.st_mode)) or not mode & _GROUP_OTHER:
        return
    if info.st_uid != os.geteuid():
        return  # not ours to change (and chmod would fail)
    if is_dir and mode & stat.S_ISVTX:
        # A sticky folder (/tmp, /var/tmp) is shared by design, whoever owns it (root, as a
        # root process): it is never one of burntray's own folders, so it is never tightened.
        return
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    flags |= os.O_DIRECTORY if is_dir else 0
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        log.warning("cannot make %s private: %s", path, exc.strerror or exc)
        return
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) == (info.st_dev, info.st_ino):
            os.fchmod(fd, stat.S_IMODE(opened.st_mode) & ~_GROUP_OTHER)
    except OSError as exc:
        log.warning("cannot make %s private: %s", path, exc.strerror or exc)
    finally:
        os.close(fd)


def check_own_dir(path: Path, allow_link: bool = False) -> os.stat_result:
    """``lstat`` of one of burntray's own folders if it is a real folder (not a symbolic link)
    owned by the user running burntray. ``allow_link`` accepts a link to such a folder (the
    config folder kept in a dotfiles repository). Raises ``UnsafePathError`` naming the path."""
    info = os.lstat(path)
    if allow_link and stat.S_ISLNK(info.st_mode):
        info = os.stat(path)  # the folder it points to must pass the same checks
    elif stat.S_ISLNK(info.st_mode):
        raise UnsafePathError(
            path,
            "is a symbolic link; burntray keeps its files only in a real folder "
            "(remove the link and it is created again)",
        )
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafePathError(path, f"is {kind_of(info.st_mode)}, not a folder")
    if os.name != "nt" and info.st_uid != os.geteuid():
        raise UnsafePathError(
            path, f"belongs to user id {info.st_uid}, not to you (user id {os.geteuid()})"
        )
    return info


def ensure_dir(path: Path, allow_link: bool = False) -> Path:
    """Create one of burntray's own dirs 0700 (missing parents get the usual mode: they are
    the user's, such as ``~/.local/share``) and tighten it if it exists with a looser mode.
    Raises ``OSError`` when it cannot be created, and ``UnsafePathError`` (an ``OSError``)
    when it is a symbolic link (unless ``allow_link``), not a folder or someone else's
    (``check_own_dir``). A link's target is never chmod-ed."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    check_own_dir(path, allow_link)
    tighten(path)
    return path


def open_own_file(path: Path | str, flags: int, mode: int = PRIVATE_FILE_MODE) -> int:
    """``os.open`` for burntray's own files (its log, for one): never follows a symbolic link
    at ``path`` and accepts only a regular file, created with ``mode`` (0600) and tightened
    through the descriptor if an older version left it looser. Usable as ``open(...,
    opener=...)``. Raises ``UnsafePathError`` naming the path, ``OSError`` otherwise."""
    extra = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    extra |= getattr(os, "O_NONBLOCK", 0)  # a FIFO put there must not hang the open
    try:
        fd = os.open(path, flags | extra, mode)
    except OSError as exc:
        there = None
        with contextlib.suppress(OSError):
            there = os.lstat(path).st_mode
        if there is not None and stat.S_ISLNK(there):
            raise UnsafePathError(
                Path(path), "is a symbolic link; burntray does not follow links in its own folders"
            ) from None
        if there is not None and not stat.S_ISREG(there):
            raise UnsafePathError(Path(path), f"is {kind_of(there)}, not a regular file") from None
        raise exc from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafePathError(Path(path), f"is {kind_of(info.st_mode)}, not a regular file")
        if os.name != "nt" and info.st_uid == os.geteuid() and info.st_mode & _GROUP_OTHER:
            os.fchmod(fd, stat.S_IMODE(info.st_mode) & ~_GROUP_OTHER)
        if getattr(os, "O_NONBLOCK", 0):  # only there to open; writes may block as usual
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def ensure_private_file(path: Path) -> None:
    """Make ``path`` exist as a regular file only its owner can read: created empty with mode
    0600 when missing (so a library that opens it later, such as SQLite, keeps that mode), and
    tightened when it exists with a looser one. Raises ``UnsafePathError`` when a symbolic
    link is there (SQLite would write into its target), ``UnsafeFileError`` when something
    else that is not a regular file is (a FIFO would hang SQLite), ``OSError`` otherwise."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, PRIVATE_FILE_MODE)  # O_EXCL never follows a link
    except FileExistsError:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            raise UnsafePathError(
                path, "is a symbolic link; burntray does not follow links in its own folders"
            ) from None
        check_regular_file(path)
        tighten(path)
    else:
        os.close(fd)


def user_home(env: Mapping[str, str] | None = None) -> Path:
    """Go's ``os.UserHomeDir``: ``USERPROFILE`` on Windows, ``HOME`` elsewhere."""
    env = os.environ if env is None else env
    var = "USERPROFILE" if os.name == "nt" else "HOME"
    value = env.get(var, "")
    if not value:
        raise RuntimeError(f"cannot resolve home: ${var} is not set")
    return Path(value)


def env_path_list(value: str) -> list[Path]:
    """A comma-separated list of folders (blank entries dropped, ``~`` expanded)."""
    return [Path(p.strip()).expanduser() for p in value.split(",") if p.strip()]


def env_dir(env: Mapping[str, str], name: str) -> Path | None:
    """The folder named by ``$name`` (``~`` expanded), or None when it is unset or blank."""
    value = env.get(name, "")
    return Path(value).expanduser() if value.strip() else None
