"""burntray never renames or chmods over anything that is not its own regular file, and never
follows a symbolic link put inside its own folders.

Devices, FIFOs and links are made in the test's tmp dir only (a /dev/null twin by mknod as
root); the machine's real /dev/null is never a target.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from pathlib import Path

import pytest

from burntray.cli import main
from burntray.config import Settings
from burntray.config_write import save_settings
from burntray.io.atomic import UnsafePathError, atomic_write, write_output
from burntray.logsetup import setup_logging
from burntray.paths import app_paths, ensure_dir, open_own_file, tighten
from burntray.report.build import KEEP_REPORTS, ReportError, prune_reports, write_report
from burntray.store.history import HistoryError, HistoryStore
from tests.report_support import FIXED_EVENTS, fixed_context, write_events

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX devices, FIFOs and modes")

PRECIOUS = b"someone else's file: must stay exactly as it is\n"


def null_twin(tmp_path: Path) -> Path:
    """A character device like /dev/null (1, 3) in tmp_path; needs root (CI runs as root)."""
    path = tmp_path / "null"
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root and must be able to mknod in tmp_path")
        pytest.skip("making a character device needs root")
    return path


@pytest.fixture
def report_events(hexai_dir: Path) -> None:
    write_events(hexai_dir, FIXED_EVENTS)


# --- finding 1: never rename over a device, FIFO, directory or link ---------------------------


def test_report_out_a_character_device_is_written_to_and_stays_a_device(
    report_events: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    device = null_twin(tmp_path)
    before = os.lstat(device)
    assert main(["report", "--out", str(device)]) == 0, capsys.readouterr().err
    after = os.lstat(device)
    assert stat.S_ISCHR(after.st_mode)
    same = (after.st_ino, after.st_rdev, after.st_mode)
    assert same == (before.st_ino, before.st_rdev, before.st_mode)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".null")) == []


def test_report_out_a_fifo_streams_the_report_and_leaves_the_fifo(
    report_events: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as fh:
            received.append(fh.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert main(["report", "--format", "json", "--out", str(fifo)]) == 0
    reader.join(timeout=30)
    assert not reader.is_alive()
    assert json.loads(received[0])["report"]["report_version"] == 1
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_report_out_dash_writes_to_stdout_and_makes_no_file(
    report_events: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfdbinary: pytest.CaptureFixture[bytes],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--format", "json", "--out", "-"]) == 0
    out = capfdbinary.readouterr().out
    assert json.loads(out)["report"]["report_version"] == 1  # the report, no path line
    assert not (tmp_path / "-").exists()
    assert main(["report", "--out", "-", "--by", "day"]) == 0
    assert capfdbinary.readouterr().out.startswith(b"DATE ")
    assert not (tmp_path / "-").exists()
    assert main(["report", "--out", "-", "--open"]) == 2
    assert b"--open needs a file" in capfdbinary.readouterr().err


def test_report_out_a_directory_is_refused_by_name(
    report_events: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    assert main(["report", "--out", str(folder)]) == 1
    err = capsys.readouterr().err
    assert f"cannot write {folder}: is a directory" in err
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_report_out_a_link_to_a_file_replaces_the_file_and_keeps_the_link(
    report_events: None, tmp_path: Path
) -> None:
    target = tmp_path / "real.json"
    target.write_bytes(b"old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert main(["report", "--format", "json", "--out", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert json.loads(target.read_bytes())["report"]["report_version"] == 1


@pytest.mark.parametrize("kind", ["fifo", "directory", "symlink", "device"])
def test_atomic_write_refuses_anything_but_a_regular_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "target"
    target = tmp_path / "precious"
    target.write_bytes(PRECIOUS)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "symlink":
        path.symlink_to(target)
    else:
        path = null_twin(tmp_path)
    before = os.lstat(path)
    with pytest.raises(UnsafePathError) as caught:
        atomic_write(path, b"new")
    assert caught.value.filename == str(path)
    assert "not a regular file" in str(caught.value.strerror)
    after = os.lstat(path)
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert target.read_bytes() == PRECIOUS
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_write_output_refuses_a_socket_and_a_dangling_link(tmp_path: Path) -> None:
    import socket

    sock_path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        with pytest.raises(UnsafePathError, match="a socket"):
            write_output(sock_path, b"x")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(UnsafePathError, match="does not exist"):
        write_output(dangling, b"x")
    assert not (tmp_path / "nowhere").exists()


def test_saving_into_a_linked_config_folder_writes_there(tmp_path: Path) -> None:
    paths = app_paths()
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir(mode=0o755)
    os.chmod(dotfiles, 0o755)
    paths.config_dir.parent.mkdir(parents=True, exist_ok=True)
    paths.config_dir.symlink_to(dotfiles)
    save_settings(paths.config_file, Settings(window="5m"))
    assert "burntray settings" in (dotfiles / "config.toml").read_text()
    assert 'window = "5m"' in (dotfiles / "config.toml").read_text()
    assert stat.S_IMODE(os.stat(dotfiles).st_mode) == 0o755  # a link's target is not chmod-ed


def test_saving_a_linked_config_writes_the_linked_file(tmp_path: Path) -> None:
    """A dotfiles user links config.toml: saving keeps the link and updates its target."""
    paths = app_paths()
    dotfiles = tmp_path / "dotfiles.toml"
    dotfiles.write_text("")
    ensure_dir(paths.config_dir)
    paths.config_file.symlink_to(dotfiles)
    save_settings(paths.config_file, Settings(window="5m"))
    assert paths.config_file.is_symlink()
    assert "burntray settings" in dotfiles.read_text()
    assert 'window = "5m"' in dotfiles.read_text()


# --- finding 2: links put inside burntray's own folders are never followed --------------------


def test_a_linked_history_database_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    paths = app_paths()
    ensure_dir(paths.data_dir)
    target = tmp_path / "precious.db"
    target.write_bytes(PRECIOUS)
    os.chmod(target, 0o644)
    paths.history_db.symlink_to(target)
    with pytest.raises(HistoryError) as caught:
        HistoryStore(paths.history_db)
    assert str(paths.history_db) in str(caught.value)
    assert "symbolic link" in str(caught.value)
    assert target.read_bytes() == PRECIOUS
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644


@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
def test_a_linked_history_companion_is_refused(tmp_path: Path, suffix: str) -> None:
    paths = app_paths()
    ensure_dir(paths.data_dir)
    target = tmp_path / "precious"
    target.write_bytes(PRECIOUS)
    companion = paths.history_db.with_name(paths.history_db.name + suffix)
    companion.symlink_to(target)
    with pytest.raises(HistoryError) as caught:
        HistoryStore(paths.history_db)
    assert str(companion) in str(caught.value)
    assert target.read_bytes() == PRECIOUS


def test_a_linked_data_folder_is_refused(tmp_path: Path) -> None:
    paths = app_paths()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    paths.data_dir.parent.mkdir(parents=True, exist_ok=True)
    paths.data_dir.symlink_to(elsewhere)
    with pytest.raises(HistoryError) as caught:
        HistoryStore(paths.history_db)
    assert str(paths.data_dir) in str(caught.value) and "symbolic link" in str(caught.value)
    assert list(elsewhere.iterdir()) == []


def test_a_linked_reports_folder_is_refused_and_nothing_in_it_deleted(
    report_events: None, tmp_path: Path
) -> None:
    ctx = fixed_context()
    victim = tmp_path / "victim"
    victim.mkdir()
    names = [f"burntray-report-2020010{i % 10}T00000{i:03d}Z-x-1h.html" for i in range(30)]
    for name in names:
        (victim / name).write_bytes(PRECIOUS)
    ensure_dir(ctx.paths.cache_dir)
    ctx.paths.reports_dir.symlink_to(victim)
    with pytest.raises(ReportError) as caught:
        write_report(ctx, ctx.settings)
    ctx.close()
    assert str(ctx.paths.reports_dir) in str(caught.value)
    assert "symbolic link" in str(caught.value)
    assert sorted(p.name for p in victim.iterdir()) == sorted(names)
    assert prune_reports(ctx.paths.reports_dir, KEEP_REPORTS) == 0
    assert len(list(victim.iterdir())) == 30


def test_a_linked_log_file_is_refused_and_its_target_untouched(
    tmp_path: Path, clean_root_logger: None, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = app_paths()
    ensure_dir(paths.log_dir)
    target = tmp_path / "precious.log"
    target.write_bytes(PRECIOUS)
    os.chmod(target, 0o644)
    paths.log_file.symlink_to(target)
    setup_logging(paths)  # the app still runs, without its log file, and says why
    err = capsys.readouterr().err
    assert f"burntray: not logging to {paths.log_file}: is a symbolic link" in err
    logging.getLogger("burntray.test").warning("must not reach the target")
    assert target.read_bytes() == PRECIOUS
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644
    with pytest.raises(UnsafePathError) as caught:  # the opener the log handler uses
        open_own_file(paths.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    assert caught.value.filename == str(paths.log_file)


def test_a_linked_log_folder_is_refused(
    tmp_path: Path, clean_root_logger: None, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = app_paths()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    paths.log_dir.parent.mkdir(parents=True, exist_ok=True)
    paths.log_dir.symlink_to(elsewhere)
    setup_logging(paths)
    assert f"not logging to {paths.log_dir}: is a symbolic link" in capsys.readouterr().err
    logging.getLogger("burntray.test").warning("must not reach the folder")
    assert list(elsewhere.iterdir()) == []


def test_open_own_file_refuses_links_and_fifos_and_tightens_through_the_descriptor(
    tmp_path: Path,
) -> None:
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "absent")
    with pytest.raises(UnsafePathError, match="symbolic link"):
        open_own_file(link, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    assert not (tmp_path / "absent").exists()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UnsafePathError, match="FIFO"):
        open_own_file(fifo, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    loose = tmp_path / "loose.log"
    loose.write_bytes(b"")
    os.chmod(loose, 0o644)
    os.close(open_own_file(loose, os.O_WRONLY | os.O_APPEND))
    assert stat.S_IMODE(os.stat(loose).st_mode) == 0o600


def test_tighten_never_changes_the_target_of_a_link(tmp_path: Path) -> None:
    target = tmp_path / "shared.txt"
    target.write_bytes(PRECIOUS)
    os.chmod(target, 0o644)
    link = tmp_path / "link"
    link.symlink_to(target)
    tighten(link)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644
    folder = tmp_path / "shared-folder"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    (tmp_path / "folder-link").symlink_to(folder)
    tighten(tmp_path / "folder-link")
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o755


def test_someone_elses_data_folder_is_refused(tmp_path: Path) -> None:
    """A folder of burntray's owned by another user (made by root, say): refused by name."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root and must be able to chown in tmp_path")
        pytest.skip("giving a folder to another user needs root")
    paths = app_paths()
    paths.data_dir.mkdir(parents=True)
    os.chown(paths.data_dir, 65534, 65534)
    with pytest.raises(HistoryError) as caught:
        HistoryStore(paths.history_db)
    assert f"{paths.data_dir} belongs to user id 65534, not to you (user id 0)" in str(caught.value)
    assert list(paths.data_dir.iterdir()) == []
