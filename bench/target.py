"""Targets beside figures: ``missed(ok)`` is appended to every figure that has a target.

A figure that misses its target must say so where it is printed, not leave the reader to
compare 1.37x with ">= 2x" by eye.
"""

from __future__ import annotations

MISSED = "  MISSED"


def missed(met: bool) -> str:
    """ "" when the target is met, else "  MISSED" (to append to the printed figure)."""
    return "" if met else MISSED
