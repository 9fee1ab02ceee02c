"""Keeping a long-running process's memory flat when it handles bodies a sender controls.

glibc's allocator serves a large block (over 128 KiB) with its own ``mmap`` and gives it back
at ``free``, but after such a free it raises that threshold to the freed block's size (up to
32 MiB): from then on blocks of that size come from the heap, where small objects allocated
between them pin the pages. A receiver that inflates and refuses many multi-MiB bodies (a
flood of gzip bombs) then keeps hundreds of MiB it no longer uses (measured: 564 MiB against
104 MiB with a fixed threshold, `make bench`, ``bench_otel_values``). Fixing the threshold
turns that adjustment off. Other C libraries (musl, macOS, Windows) have no such knob and
need none.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

from burntray.lazylog import get_logger

log = get_logger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>
MMAP_THRESHOLD_BYTES = 256 * 1024


def fix_mmap_threshold(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Pin glibc's mmap threshold at ``threshold`` bytes for this process; False (and nothing
    done) where the C library is not glibc or refuses it."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl has no mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    if mallopt(M_MMAP_THRESHOLD, threshold) != 1:
        log.debug("mallopt(M_MMAP_THRESHOLD, %d) refused", threshold)
        return False
    return True
