"""``python -m burntray`` (also the PyInstaller entry point)."""

import sys

from burntray.cli import main

if __name__ == "__main__":
    if getattr(sys, "frozen", False):
        # A frozen burntray is its own Python: the processes a first scan reads logs in
        # (``sources.agent_logs.parallel``, spawned) start as this executable, and must run the
        # worker there instead of the CLI. A no-op elsewhere, so only a frozen build imports it.
        import multiprocessing

        multiprocessing.freeze_support()
    sys.exit(main())
