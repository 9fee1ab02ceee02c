"""Targets beside figures: ``missed(ok)`` is appended to every figure that has a target.

A figure that misses its target must say so where it is printed, not leave the reader to
compare 1.37x with ">= 2x" by eye. Latency targets are stated as percentiles: ``percentile``
is the one way they are taken.
"""

from __future__ import annotations

MISSED = "  MISSED"


def missed(met: bool) -> str:
    """ "" when the target is met, else "  MISSED" (to append to the printed figure)."""
    return "" if met else MISSED


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``: the sample nearest to rank ``q * (n - 1)``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
