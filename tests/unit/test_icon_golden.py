"""Icon golden images: every state x tray size, compared pixel-wise with a small tolerance.

Regenerate after an intended design change with ``BURNTRAY_UPDATE_GOLDENS=1 make test`` and look
at the PNGs under tests/golden/ before committing them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from burntray.ui.icon import TRAY_SIZES, render_icon
from burntray.ui.presenter import ICON_STATES, IconSpec

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
SIZES = (*TRAY_SIZES, 44, 128)  # the tray sizes and two 2x ones (22 and 64 px at 2x)
# Tolerance: font hinting and resampling may differ slightly between Pillow/FreeType builds.
MEAN_TOLERANCE = 3.0  # mean absolute difference per channel, 0-255
BIG_DIFF = 96  # a pixel this far off in any channel counts as different
BIG_DIFF_SHARE = 0.03


def _cases() -> list[tuple[str, str, int]]:
    cases = [(state, "0.7", size) for state in ICON_STATES for size in SIZES]
    cases += [(state, "", size) for state in ICON_STATES for size in (22, 64)]
    return cases


def _name(state: str, figure: str, size: int) -> str:
    return f"icon-{state}-{'figure' if figure else 'glyph'}-{size}.png"


def difference(a: Image.Image, b: Image.Image) -> tuple[float, float]:
    """(mean absolute channel difference, share of pixels off by more than BIG_DIFF)."""
    assert a.size == b.size and a.mode == b.mode == "RGBA"
    diff = ImageChops.difference(a, b)
    channels = diff.split()
    pixels = a.width * a.height
    mean = sum(sum(i * n for i, n in enumerate(ch.histogram())) for ch in channels) / (
        pixels * len(channels)
    )
    worst = channels[0]
    for ch in channels[1:]:
        worst = ImageChops.lighter(worst, ch)
    big = sum(worst.histogram()[BIG_DIFF:]) / pixels
    return mean, big


@pytest.mark.parametrize(("state", "figure", "size"), _cases())
def test_icon_matches_golden(state: str, figure: str, size: int) -> None:
    image = render_icon(IconSpec(state, figure), size)  # type: ignore[arg-type]
    assert image.size == (size, size) and image.mode == "RGBA"
    path = GOLDEN / _name(state, figure, size)
    if os.environ.get("BURNTRAY_UPDATE_GOLDENS"):
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, optimize=True)
    golden = Image.open(path).convert("RGBA")
    mean, big = difference(image, golden)
    assert mean <= MEAN_TOLERANCE and big <= BIG_DIFF_SHARE, (
        f"{path.name}: mean diff {mean:.2f}, {big:.1%} pixels far off"
    )


@pytest.mark.parametrize("size", (16, 32, 64))
def test_states_are_told_apart_at_a_glance(size: int) -> None:
    """The tolerance above must not hide a state change: every pair of states differs more."""
    images = {s: render_icon(IconSpec(s, "0.7"), size) for s in ICON_STATES}
    for i, a in enumerate(ICON_STATES):
        for b in ICON_STATES[i + 1 :]:
            mean, big = difference(images[a], images[b])
            assert mean > MEAN_TOLERANCE or big > BIG_DIFF_SHARE, (a, b, size)


def test_figure_changes_are_visible() -> None:
    mean, big = difference(
        render_icon(IconSpec("normal", "0.7"), 24), render_icon(IconSpec("normal", "42"), 24)
    )
    assert mean > 1.0 and big > 0.01


def test_legible_on_light_and_dark_panels() -> None:
    """The badge is opaque and dark, the rim light: contrast on both panel colours."""
    image = render_icon(IconSpec("normal", "0.7"), 32)
    centre = image.getpixel((16, 26))
    edge = image.getpixel((16, 0))
    assert isinstance(centre, tuple) and isinstance(edge, tuple)
    assert edge[3] > 128 and sum(edge[:3]) / 3 > 150  # light rim shows on dark panels
    badge = image.getpixel((3, 16))
    assert isinstance(badge, tuple) and badge[3] == 255 and sum(badge[:3]) / 3 < 80


def test_too_small_sizes_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="too small"):
        render_icon(IconSpec("normal"), 4)


def test_icons_for_opaque_trays_keep_their_shape_over_the_trays_background() -> None:
    from PIL import Image

    from burntray.ui.icon import compose_on_background

    icon = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    icon.paste((200, 0, 0, 255), (4, 4, 28, 28))  # an opaque square, transparent corners
    background = Image.new("RGB", (24, 30), (221, 221, 221))
    slot = compose_on_background(icon, (24, 30), background)
    assert slot.size == (24, 30) and slot.mode == "RGB"
    red = [
        (x, y)
        for x in range(24)
        for y in range(30)
        if slot.getpixel((x, y))[0] > 150 > slot.getpixel((x, y))[1]
    ]
    xs, ys = [x for x, _ in red], [y for _, y in red]
    assert max(xs) - min(xs) == max(ys) - min(ys)  # square, not stretched to 24x30
    assert abs((min(ys) + max(ys)) / 2 - 14.5) <= 1  # centred in the slot
    assert slot.getpixel((0, 0)) == (221, 221, 221)  # transparent parts show the tray
    assert compose_on_background(icon, (24, 30)).getpixel((0, 0)) == (128, 128, 128)
