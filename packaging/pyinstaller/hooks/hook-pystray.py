# Replaces pyinstaller-hooks-contrib's hook-pystray, which calls collect_submodules("pystray"):
# pystray picks its backend when imported, so that import fails without a display (the build
# would then silently miss the backends). The backends for the build's OS are listed by name.
import sys

if sys.platform == "win32":
    hiddenimports = ["pystray._win32"]
elif sys.platform == "darwin":
    hiddenimports = ["pystray._darwin"]
else:
    hiddenimports = ["pystray._xorg", "pystray._gtk", "pystray._appindicator"]
hiddenimports += ["pystray._base", "pystray._dummy", "pystray._util"]
