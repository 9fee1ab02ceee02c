"""Draw burntray's application icon with Pillow and write every format the packages need.

    python packaging/make_icons.py [OUT_DIR]     (default: assets/app)

Writes ``burntray-<N>.png`` at the hicolor sizes (the .deb's icon theme and the AppImage),
``burntray.ico`` (Windows exe and installer) and ``burntray.icns`` (the macOS .app). The icon is
drawn once at 1024 px and scaled down, so every size is the same picture. The drawing uses only
integer geometry and a fixed palette: running the script again gives the same pixels, which a
test checks against the committed files.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

MASTER = 1024
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
BACKGROUND = (31, 36, 48, 255)
FLAME_OUTER = (255, 122, 26, 255)
FLAME_INNER = (255, 210, 63, 255)
BAR = (120, 200, 255, 255)
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "assets" / "app"


def _teardrop(
    draw: ImageDraw.ImageDraw, cx: int, bottom: int, *, radius: int, height: int, fill: tuple
) -> None:
    """A flame tongue: a circle resting on ``bottom`` with a point ``height`` above it."""
    centre_y = bottom - radius
    draw.ellipse((cx - radius, centre_y - radius, cx + radius, bottom), fill=fill)
    draw.polygon(
        [(cx - radius, centre_y), (cx + radius, centre_y), (cx + radius // 5, bottom - height)],
        fill=fill,
    )


def draw_master() -> Image.Image:
    image = Image.new("RGBA", (MASTER, MASTER), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((32, 32, MASTER - 33, MASTER - 33), radius=200, fill=BACKGROUND)
    # Three usage bars behind the flame: "usage, burning".
    for i, height in enumerate((220, 360, 300)):
        left = 200 + i * 230
        draw.rounded_rectangle((left, 860 - height, left + 150, 860), radius=30, fill=BAR)
    _teardrop(draw, 512, 880, radius=250, height=760, fill=FLAME_OUTER)
    _teardrop(draw, 520, 880, radius=140, height=460, fill=FLAME_INNER)
    return image


def write_icons(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    master = draw_master()
    written = []
    for size in PNG_SIZES:
        path = out_dir / f"burntray-{size}.png"
        master.resize((size, size), Image.Resampling.LANCZOS).save(path, optimize=False)
        written.append(path)
    ico = out_dir / "burntray.ico"
    master.resize((256, 256), Image.Resampling.LANCZOS).save(ico, sizes=[(s, s) for s in ICO_SIZES])
    icns = out_dir / "burntray.icns"
    master.save(icns)
    written += [ico, icns]
    return written


def main(argv: list[str]) -> int:
    out_dir = Path(argv[0]) if argv else DEFAULT_OUT
    for path in write_icons(out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
