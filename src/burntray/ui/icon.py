"""The icon renderer: the only module that draws with Pillow.

A dark rounded badge with a light rim (legible on light and dark panels) carrying a flame glyph
and, when chosen, a compact live figure. States: normal (orange flame), elevated (amber badge),
spike (red badge), stale (the whole icon dimmed and grey), offline (grey "no entry" mark) and
error (red "!" mark). Shapes are drawn 4x and scaled down (anti-aliased); the figure is drawn at
the final size so small text stays crisp. Rendering is deterministic: the golden tests compare
pixels.
"""

from __future__ import annotations

from functools import lru_cache

from msgspec import Struct
from PIL import Image, ImageDraw, ImageFont

from burntray.ui.presenter import IconSpec, IconState

TRAY_SIZES = (16, 22, 24, 32, 48, 64)  # what trays ask for; 2x is the same call at twice the size
SUPERSAMPLE = 4

# A flame in unit coordinates (x right, y down): outer tongue and inner core.
_FLAME_OUTER = (
    (0.50, 0.04),
    (0.60, 0.22),
    (0.76, 0.40),
    (0.82, 0.60),
    (0.75, 0.80),
    (0.50, 0.96),
    (0.25, 0.80),
    (0.18, 0.60),
    (0.24, 0.42),
    (0.34, 0.54),
    (0.38, 0.32),
)
_FLAME_INNER = (
    (0.50, 0.44),
    (0.63, 0.64),
    (0.59, 0.82),
    (0.50, 0.88),
    (0.41, 0.82),
    (0.37, 0.66),
)


class Palette(Struct, frozen=True):
    badge: tuple[int, int, int, int]
    rim: tuple[int, int, int, int]
    flame: tuple[int, int, int, int]
    core: tuple[int, int, int, int]
    text: tuple[int, int, int, int]


_BASE = Palette(
    badge=(38, 42, 50, 255),
    rim=(236, 239, 244, 230),
    flame=(255, 138, 0, 255),
    core=(255, 214, 79, 255),
    text=(255, 255, 255, 255),
)
PALETTES: dict[IconState, Palette] = {
    "normal": _BASE,
    "elevated": Palette((178, 106, 0, 255), _BASE.rim, (255, 196, 0, 255), (255, 244, 200, 255),
                        _BASE.text),
    "spike": Palette((198, 40, 40, 255), _BASE.rim, (255, 235, 59, 255), (255, 255, 255, 255),
                     _BASE.text),
    "stale": Palette((95, 99, 104, 150), (236, 239, 244, 120), (170, 170, 170, 170),
                     (210, 210, 210, 170), (230, 230, 230, 190)),
    "offline": _BASE,
    "error": _BASE,
}  # fmt: skip


def _poly(points: tuple[tuple[float, float], ...], x0: float, y0: float, w: float, h: float):  # type: ignore[no-untyped-def]
    return [(x0 + x * w, y0 + y * h) for x, y in points]


@lru_cache(maxsize=64)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=px)


def _fit_font(draw: ImageDraw.ImageDraw, text: str, max_w: int, max_h: int):  # type: ignore[no-untyped-def]
    """The largest font whose rendering of ``text`` fits the box."""
    for px in range(max(6, max_h + 4), 5, -1):
        font = _font(px)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        if right - left <= max_w and bottom - top <= max_h:
            return font
    return _font(6)


def render_icon(spec: IconSpec, size: int) -> Image.Image:
    """The icon for ``spec`` at ``size`` x ``size`` pixels (RGBA)."""
    if size < 8:
        raise ValueError(f"icon size {size} px is too small: use 16 px or more")
    palette = PALETTES[spec.state]
    big = size * SUPERSAMPLE
    shapes = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(shapes)
    rim = max(SUPERSAMPLE, big // 16)
    draw.rounded_rectangle(
        (0, 0, big - 1, big - 1), radius=big * 0.22, fill=palette.badge, outline=palette.rim,
        width=rim,
    )  # fmt: skip
    has_figure = bool(spec.figure)
    text_only = has_figure and size < 32  # too small for glyph and text: the figure wins
    if not text_only:
        if has_figure:  # glyph on top, figure below
            fx, fy, fw, fh = big * 0.30, big * 0.07, big * 0.40, big * 0.42
        else:
            fx, fy, fw, fh = big * 0.16, big * 0.12, big * 0.68, big * 0.76
        draw.polygon(_poly(_FLAME_OUTER, fx, fy, fw, fh), fill=palette.flame)
        draw.polygon(_poly(_FLAME_INNER, fx, fy, fw, fh), fill=palette.core)
    else:  # a flame-coloured cap keeps the icon recognisable beside other figures
        cap = max(SUPERSAMPLE * 2, big // 8)
        draw.rounded_rectangle(
            (big * 0.25, rim + SUPERSAMPLE, big * 0.75, rim + SUPERSAMPLE + cap),
            radius=cap // 2, fill=palette.flame,
        )  # fmt: skip
    image = shapes.resize((size, size), Image.Resampling.LANCZOS)
    marked = spec.state in ("offline", "error")
    if has_figure:
        _draw_figure(image, spec.figure, palette, text_only, beside_mark=marked)
    if marked:  # drawn last so the figure never hides it
        mark = Image.new("RGBA", (big, big), (0, 0, 0, 0))
        _draw_mark(ImageDraw.Draw(mark), spec.state, big)
        image.alpha_composite(mark.resize((size, size), Image.Resampling.LANCZOS))
    return image


def _draw_mark(draw: ImageDraw.ImageDraw, state: IconState, big: int) -> None:
    """Offline: a grey no-entry sign; error: a red disc with "!" (bottom right corner)."""
    d = big * 0.46
    x0, y0 = big - d, big - d
    fill = (200, 30, 30, 255) if state == "error" else (120, 124, 130, 255)
    draw.ellipse((x0, y0, big - 1, big - 1), fill=fill, outline=(255, 255, 255, 255),
                 width=max(SUPERSAMPLE, big // 24))  # fmt: skip
    cx, cy, bar = x0 + d / 2, y0 + d / 2, d * 0.10
    if state == "offline":
        draw.rectangle((x0 + d * 0.22, cy - bar, big - 1 - d * 0.22, cy + bar), fill="white")
    else:
        draw.rectangle((cx - bar, y0 + d * 0.18, cx + bar, y0 + d * 0.58), fill="white")
        draw.rectangle((cx - bar, y0 + d * 0.68, cx + bar, y0 + d * 0.82), fill="white")


def _draw_figure(
    image: Image.Image, text: str, palette: Palette, text_only: bool, beside_mark: bool
) -> None:
    size = image.width
    draw = ImageDraw.Draw(image)
    pad = max(1, size // 16) + 1
    top = size * 0.26 if text_only else size * 0.50
    # beside a mark (bottom right) the figure keeps to the left part, still readable
    box_w = int(size * 0.56) - pad if beside_mark else size - 2 * pad
    box_h = int(size - top - pad)
    font = _fit_font(draw, text, box_w, box_h)
    left, t, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = pad + (box_w - (right - left)) / 2 - left
    y = top + (box_h - (bottom - t)) / 2 - t
    draw.text((x, y), text, font=font, fill=palette.text)


def render_sizes(spec: IconSpec, sizes: tuple[int, ...] = TRAY_SIZES) -> dict[int, Image.Image]:
    return {size: render_icon(spec, size) for size in sizes}


def compose_on_background(
    icon: Image.Image, size: tuple[int, int], background: Image.Image | None = None
) -> Image.Image:
    """``icon`` drawn into an opaque ``size`` slot, for trays that cannot show transparency.

    pystray's xorg backend stretched the icon to the slot it was given (a 32x24 slot made a wide
    badge) and pasted it on black, so the badge's round corners showed black. Here the icon keeps
    its aspect, fitted and centred in the slot, and is blended over ``background`` (what the tray
    shows behind the slot; a neutral grey when that is unknown).
    """
    width, height = max(1, size[0]), max(1, size[1])
    if background is None or background.size != (width, height):
        base = Image.new("RGBA", (width, height), (128, 128, 128, 255))
    else:
        base = background.convert("RGBA")
    side = min(width, height)
    fitted = icon.convert("RGBA")
    if fitted.size != (side, side):
        fitted = fitted.resize((side, side), Image.Resampling.LANCZOS)
    base.alpha_composite(fitted, ((width - side) // 2, (height - side) // 2))
    return base.convert("RGB")
