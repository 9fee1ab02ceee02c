# PyInstaller runtime hook, run before burntray in every frozen build.
# The windowed executables (burntrayw.exe, the macOS .app) start with sys.stdout and
# sys.stderr set to None: any print, argparse message or traceback would then raise
# AttributeError and kill the tray. Point the missing streams at the null device instead
# (burntray logs to its log file, see `burntray doctor`).
import os
import sys

for _name in ("stdout", "stderr"):
    if getattr(sys, _name) is None:
        setattr(sys, _name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the process
