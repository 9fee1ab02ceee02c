"""What ``burntray status --format json`` loads on an empty home: no source package's reader
(the ``block`` object is model code), no dataclasses (the values are msgspec Structs), and
not the shipped price file's parse (no source priced anything; ``pricing.sources`` needs only
to know the file is there). Without a history the alerts are evaluated with no sqlite3 and no
alert store, no plan-window code at all (there are no plan windows), and no progress thread
(stderr is not a terminal). The time itself is a benchmark (bench_core)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

from burntray.model.blocks import UsageBlock
from burntray.model.export import block_to_dict

NS = 10**9


def test_status_json_loads_no_source_reader_and_parses_no_price_file() -> None:
    code = (
        "import sys\n"
        "from burntray.cli import main\n"
        "from burntray.model import pricing\n"
        "code = main(['status', '--format', 'json'])\n"
        "sys.stdout.flush()\n"
        "names = ('dataclasses', 'burntray.sources.agent_logs.source', 'burntray.model.periods',\n"
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
