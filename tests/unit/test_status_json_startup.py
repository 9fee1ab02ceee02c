"""What ``burntray status --format json`` loads on an empty home: no source package's reader
(the ``block`` object is model code), no msgspec (the stdlib's json writes the same bytes), and
not the shipped price file's parse (no source priced anything; ``pricing.sources`` needs only
to know the file is there). Without a history the alerts are evaluated with no sqlite3 and no
alert store, no plan-window code at all (there are no plan windows), and no progress thread
(stderr is not a terminal). The time itself is a benchmark (bench_core)."""

from __future__ import annotations

import ast
import json
import math
import random
import subprocess
import sys
from typing import Any

import msgspec
import pytest

from burntray.model.blocks import UsageBlock
from burntray.model.export import block_to_dict, json_text

NS = 10**9


def test_status_json_loads_no_source_reader_and_parses_no_price_file() -> None:
    code = (
        "import sys\n"
        "from burntray.cli import main\n"
        "from burntray.model import pricing\n"
        "code = main(['status', '--format', 'json'])\n"
        "sys.stdout.flush()\n"
        "names = ('msgspec', 'burntray.sources.agent_logs.source', 'burntray.model.periods',\n"
        "         'sqlite3', 'threading', 'burntray.store.history', 'burntray.store.alert_store',\n"
        "         'burntray.runtime.limit_alerting', 'burntray.model.limit_alerts',\n"
        "         'burntray.model.progress', 'burntray.model.limits')\n"
        "loaded = [n for n in names if n in sys.modules]\n"
        "parsed = pricing.shipped_prices.cache_info().currsize\n"
        "print(repr([code, loaded, parsed]), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    code_loaded_parsed = ast.literal_eval(done.stderr.strip().splitlines()[-1])
    doc = json.loads(done.stdout)
    assert doc["pricing"]["sources"] == ["bundled table"]
    assert "alerts" in doc
    assert code_loaded_parsed[1:] == [[], 0]


def test_a_block_in_json_is_rfc3339_utc_with_figures_rounded() -> None:
    start = 1_764_000_000 * NS  # 2025-11-24T16:00:00Z
    block = UsageBlock(
        start_ns=start,
        end_ns=start + 5 * 3600 * NS,
        first_ns=start + 60 * NS,
        last_ns=start + 3600 * NS + 5,
        reqs=3,
        tokens=4200,
        cost_usd=1.23456789,
        unpriced_reqs=1,
        active=True,
        burn_usd_per_hour=0.1234567891,
        projected_cost_usd=None,
    )
    assert block_to_dict(block) == {
        "start": "2025-11-24T16:00:00Z",
        "end": "2025-11-24T21:00:00Z",
        "last_request": "2025-11-24T17:00:00.000000005Z",
        "reqs": 3,
        "tokens": 4200,
        "cost_usd": 1.234568,
        "unpriced_reqs": 1,
        "burn_usd_per_hour": 0.123457,
        "projected_cost_usd": None,
    }
    assert block_to_dict(None) is None


def _msgspec_text(doc: Any) -> str:
    return msgspec.json.format(msgspec.json.encode(doc), indent=2).decode()


def _random_float(rng: random.Random) -> float:
    value = rng.choice((-1, 1)) * 10 ** rng.uniform(-9, 20)
    return rng.choice((value, round(value, 6), round(value, 2), float(int(value))))


@pytest.mark.parametrize("seed", range(20))
def test_json_text_is_msgspecs_text_byte_for_byte(seed: int) -> None:
    """Documents shaped like status JSON, with floats of every magnitude (plain and exponent
    form, 1e-05 and 1e+16 among them), inf and nan, and strings with every control character:
    the text is msgspec's, whichever encoder wrote it."""
    rng = random.Random(seed)
    texts = ["", "plain", "tab\there", 'quote " and \\ back', "é 😀 \u2028"]
    texts.append(chr(rng.randrange(32)))

    def value(depth: int) -> Any:
        kind = rng.randrange(8 if depth < 3 else 5)
        if kind == 0:
            return _random_float(rng)
        if kind == 1:
            return rng.randrange(-(10**12), 10**12)
        if kind == 2:
            return rng.choice(texts) + "".join(chr(rng.randrange(0x7F)) for _ in range(3))
        if kind == 3:
            return rng.choice((None, True, False, 0.0, -0.0, math.inf, -math.inf, math.nan))
        if kind == 4:
            return rng.choice(([], {}))
        if kind in (5, 6):
            return {f"k{i}": value(depth + 1) for i in range(rng.randrange(1, 5))}
        return [value(depth + 1) for _ in range(rng.randrange(1, 5))]

    for _ in range(200):
        doc = {"schema_version": 1, "totals": value(0), "rows": [value(1), value(1)]}
        assert json_text(doc) == _msgspec_text(doc)


@pytest.mark.parametrize(
    "rpm",
    [0.000099, 1e-06, 0.000694, 12.5, 1e16, math.inf],  # one request a week: 9.9e-05
)
def test_a_float_only_msgspec_writes_alike_still_prints_as_before(rpm: float) -> None:
    doc = {"totals": {"rpm": rpm, "reqs": 1}}
    assert json_text(doc) == _msgspec_text(doc)
