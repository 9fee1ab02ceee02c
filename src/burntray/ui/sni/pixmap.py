"""Pillow images -> StatusNotifierItem pixmaps: ARGB32 in network byte order, several sizes."""

from __future__ import annotations

from PIL import Image

# Panels pick the pixmap closest to their slot size; these cover 16-px panels up to HiDPI ones.
PIXMAP_SIZES = (16, 22, 24, 32, 48, 64)

# One SNI pixmap: (width, height, ARGB32 bytes, big-endian per pixel).
Pixmap = tuple[int, int, bytes]


def rgba_to_argb(rgba: bytes) -> bytes:
    """Reorder RGBA bytes into A, R, G, B: a 32-bit ARGB value in network (big-endian) order."""
    argb = bytearray(len(rgba))
    argb[0::4] = rgba[3::4]
    argb[1::4] = rgba[0::4]
    argb[2::4] = rgba[1::4]
    argb[3::4] = rgba[2::4]
    return bytes(argb)


def image_pixmaps(image: Image.Image, sizes: tuple[int, ...] = PIXMAP_SIZES) -> list[Pixmap]:
    """The image scaled to fit each size (aspect kept), as SNI IconPixmap entries."""
    source = image.convert("RGBA")
    pixmaps: list[Pixmap] = []
    for size in sizes:
        scaled = source.copy()
        if scaled.size != (size, size):
            scale = size / max(scaled.size)
            target = (max(1, round(scaled.width * scale)), max(1, round(scaled.height * scale)))
            scaled = scaled.resize(target, Image.Resampling.LANCZOS)
        pixmaps.append((scaled.width, scaled.height, rgba_to_argb(scaled.tobytes())))
    return pixmaps
