"""Regenerate the README's icon-state sheet from the tray's renderer (``burntray.ui.icon``).

Run with the project's venv: ``.venv/bin/python assets/make_icon_sheet.py``. (The application
icon for packages is ``packaging/make_icons.py``.)
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from burntray.ui.icon import render_icon
from burntray.ui.presenter import ICON_STATES, IconSpec

HERE = Path(__file__).resolve().parent


def state_sheet() -> None:
    """Each state at 22, 32 and 64 px, on a light and a dark panel."""
    sizes, cell, label_w = (22, 32, 64), 74, 80
    sheet = Image.new("RGB", (label_w + 2 * cell * len(sizes), cell * len(ICON_STATES)), "white")
    draw = ImageDraw.Draw(sheet)
    for row, state in enumerate(ICON_STATES):
        y = row * cell
        draw.text((6, y + cell // 2 - 6), state, fill="black")
        for panel, colour in enumerate(("#f0f0f0", "#202124")):
            x0 = label_w + panel * cell * len(sizes)
            draw.rectangle((x0, y, x0 + cell * len(sizes) - 1, y + cell - 1), fill=colour)
            for i, size in enumerate(sizes):
                icon = render_icon(IconSpec(state, "0.7"), size)
                x = x0 + i * cell + (cell - size) // 2
                sheet.paste(icon, (x, y + (cell - size) // 2), icon)
    sheet.save(HERE / "screenshots" / "icon-states.png", optimize=True)


if __name__ == "__main__":
    state_sheet()
