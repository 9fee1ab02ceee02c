"""``python -m burntray`` (also the PyInstaller entry point)."""

import sys

from burntray.cli import main

if __name__ == "__main__":
    sys.exit(main())
