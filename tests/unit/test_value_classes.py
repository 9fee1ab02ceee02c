"""burntray's value classes are msgspec Structs, one system throughout, and they keep the
behaviour the rest of burntray relies on: frozen ones refuse assignment and hash by value,
``replace`` names an unknown field, pickling round-trips, and the alert state's stored JSON reads
as before.

Why Structs, not the stdlib's dataclasses: a dataclass compiles its generated methods when its
module is imported (~0.8 ms a class here), and a warm ``status`` created some thirty of them, a
quarter of its time; a Struct is made in C (~0.02 ms). msgspec is burntray's parser already."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pickle
from pathlib import Path

import msgspec
import pytest
from msgspec.structs import replace

from burntray.io.log_tail import FileState
from burntray.model.alerts import AlertState, KindState
from burntray.model.snapshot import Capabilities, Snapshot, SourceStatus, Totals, UsageRow
from burntray.store.alert_store import state_from_json, state_to_json

SRC = Path(__file__).resolve().parents[2] / "src" / "burntray"

# (module, class, frozen): value classes of the model, the sources' plumbing, the settings and
# the runtime, each as frozen as it was declared.
VALUE_CLASSES = [
    ("burntray.paths", "AppPaths", True),
    ("burntray.model.pricing", "Price", True),
    ("burntray.model.pricing", "PriceTable", True),
    ("burntray.model.periods", "PeriodRow", True),
    ("burntray.model.blocks", "UsageBlock", True),
    ("burntray.model.snapshot", "SourceStatus", True),
    ("burntray.model.snapshot", "UsageRow", True),
    ("burntray.model.snapshot", "Totals", True),
    ("burntray.model.snapshot", "Capabilities", True),
    ("burntray.model.snapshot", "UpstreamFact", True),
    ("burntray.model.figures", "SourceFigures", True),
    ("burntray.model.snapshot", "Snapshot", True),
    ("burntray.model.alerts", "AlertConfig", True),
    ("burntray.model.alerts", "TopUsage", True),
    ("burntray.model.alerts", "Reading", True),
    ("burntray.model.alerts", "KindState", True),
    ("burntray.model.alerts", "AlertState", True),
    ("burntray.model.alerts", "Alert", True),
    ("burntray.model.alerts", "Evaluation", True),
    ("burntray.config", "Settings", True),
    ("burntray.actions", "ClearTarget", True),
    ("burntray.config_keys", "ConfigField", True),
    ("burntray.sources.base", "SourceContext", True),
    ("burntray.sources.spec", "ClearAction", True),
    ("burntray.sources.spec", "DemoFeed", True),
    ("burntray.sources.spec", "ReceiverSpec", True),
    ("burntray.sources.spec", "SourceSpec", True),
    ("burntray.sources.agent_logs.files", "_Listing", False),
    ("burntray.sources.agent_logs.files", "JsonlFinder", False),
    ("burntray.sources.cburn.discovery", "Discovery", True),
    ("burntray.sources.cburn.period", "DaemonPeriod", True),
    ("burntray.app", "AppContext", False),
    ("burntray.io.log_tail", "FileState", False),
    ("burntray.io.log_tail", "TailStats", False),
]


def _dataclass_uses(path: Path) -> list[str]:
    """Where a module imports the stdlib's dataclasses (``import dataclasses`` or ``from
    dataclasses import ...``), as "line N"."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        if "dataclasses" in names:
            found.append(f"line {node.lineno}")
    return found


def test_there_is_no_second_value_class_system() -> None:
    assert importlib.util.find_spec("burntray.record") is None
    uses = {
        str(path.relative_to(SRC)): lines
        for path in sorted(SRC.rglob("*.py"))
        if (lines := _dataclass_uses(path))
    }
    assert uses == {}, "value classes are msgspec Structs (see this module's docstring)"


def test_the_source_scan_finds_a_dataclass_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os\nfrom dataclasses import dataclass\nimport dataclasses\n")
    assert _dataclass_uses(module) == ["line 2", "line 3"]


@pytest.mark.parametrize(("module", "name", "frozen"), VALUE_CLASSES)
def test_each_value_class_is_a_struct(module: str, name: str, frozen: bool) -> None:
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, msgspec.Struct)
    assert cls.__struct_config__.frozen == frozen


def _snapshot() -> Snapshot:
    row = UsageRow(
        "anthropic",
        "claude-x",
        reqs=3,
        sent=1000,
        recv=200,
        tokens=300,
        cost_usd=0.25,
        unpriced_reqs=0,
        price_key="claude-x",
    )
    return Snapshot(
        "claude",
        3_600_000_000_000,
        1_700_000_000_000_000_000,
        SourceStatus("ok"),
        Totals(reqs=3, rpm=0.05, sent=1000, recv=200, tokens=300, cost_usd=0.25),
        (row,),
        capabilities=Capabilities(),
    )


def test_a_snapshot_is_frozen_equal_and_hashed_by_value() -> None:
    one, two = _snapshot(), _snapshot()
    assert one == two and hash(one) == hash(two) and one is not two
    with pytest.raises(AttributeError, match="immutable"):
        one.note = "x"  # type: ignore[misc]
    assert not hasattr(one, "__dict__")  # slotted: a snapshot's rows are made on every tick


def test_replace_makes_a_new_value_and_names_an_unknown_field() -> None:
    one = _snapshot()
    stale = replace(one, status=replace(one.status, stale=True))
    assert stale.status.stale and not one.status.stale
    assert stale != one and replace(stale, status=one.status) == one
    with pytest.raises(TypeError, match="colour"):
        replace(one, colour="red")


def test_a_mutable_value_is_equal_by_value_and_unhashable() -> None:
    one, two = FileState(1, 2, 3, 4, 5), FileState(1, 2, 3, 4, 5)
    assert one == two and one is not two
    one.offset = 6
    assert one != two and one.extra is not two.extra  # each its own dict
    with pytest.raises(TypeError, match="unhashable"):
        hash(one)


def test_a_snapshot_pickles_and_comes_back_equal() -> None:
    one = _snapshot()
    back = pickle.loads(pickle.dumps(one))
    assert back == one and type(back) is Snapshot and back.by_model[0] == one.by_model[0]


def test_the_alert_state_is_stored_as_the_same_json() -> None:
    state = AlertState(
        spike=KindState(10, 20, 1.5, True), budget_day="2026-12-07", budget_pct_fired=50
    )
    text = state_to_json(state)
    assert text == (
        '{"spike":{"active_since_ns":10,"last_fired_ns":20,"told_usd_per_hour":1.5,'
        '"followed_up":true},"rpm":{"active_since_ns":null,"last_fired_ns":null,'
        '"told_usd_per_hour":null,"followed_up":false},"budget_day":"2026-12-07",'
        '"budget_usd":0.0,"budget_pct_fired":50,"checked_ns":null}'
    )
    assert state_from_json(text) == state
