"""``burntray --self-test``: the installation check (its body is ``burntray.selftest``)."""

from __future__ import annotations


def run_selftest() -> int:
    from burntray.selftest import run_self_test  # noqa: PLC0415

    return run_self_test()
