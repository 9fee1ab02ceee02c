"""burntray's value classes are the stdlib's dataclasses, one system throughout, and they keep
the behaviour the rest of burntray relies on: frozen ones refuse assignment and hash by value,
``replace`` goes through ``__init__``, pickling round-trips, and the alert state's stored JSON
reads as before."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import pickle

import pytest

from burntray.model.alerts import AlertState, KindState
from burntray.model.snapshot import Capabilities, Snapshot, SourceStatus, Totals, UsageRow
from burntray.store.alert_store import state_from_json, state_to_json

# (module, class, frozen, slots): every value class of the model, the sources' plumbing, the
# settings and the runtime, as each was declared.
VALUE_CLASSES = [
    ("burntray.paths", "AppPaths", True, True),
    ("burntray.model.pricing", "Price", True, True),
    ("burntray.model.pricing", "PriceTable", True, True),
    ("burntray.model.periods", "PeriodRow", True, True),
    ("burntray.model.blocks", "UsageBlock", True, True),
    ("burntray.model.snapshot", "SourceStatus", True, True),
    ("burntray.model.snapshot", "UsageRow", True, True),
    ("burntray.model.snapshot", "Totals", True, True),
    ("burntray.model.snapshot", "Capabilities", True, True),
    ("burntray.model.snapshot", "UpstreamFact", True, True),
    ("burntray.model.figures", "SourceFigures", True, True),
    ("burntray.model.snapshot", "Snapshot", True, True),
    ("burntray.model.alerts", "AlertConfig", True, True),
    ("burntray.model.alerts", "TopUsage", True, True),
    ("burntray.model.alerts", "Reading", True, True),
    ("burntray.model.alerts", "KindState", True, True),
    ("burntray.model.alerts", "AlertState", True, True),
    ("burntray.model.alerts", "Alert", True, True),
    ("burntray.model.alerts", "Evaluation", True, True),
    ("burntray.config", "Settings", True, True),
    ("burntray.actions", "ClearTarget", True, True),
    ("burntray.config_keys", "ConfigField", True, True),
    ("burntray.sources.base", "SourceContext", True, False),
    ("burntray.sources.spec", "ClearAction", True, False),
    ("burntray.sources.spec", "DemoFeed", True, False),
    ("burntray.sources.spec", "ReceiverSpec", True, False),
    ("burntray.sources.spec", "SourceSpec", True, False),
    ("burntray.sources.agent_logs.files", "_Listing", False, True),
    ("burntray.sources.agent_logs.files", "JsonlFinder", False, True),
    ("burntray.sources.cburn.discovery", "Discovery", True, True),
    ("burntray.sources.cburn.period", "DaemonPeriod", True, True),
    ("burntray.app", "AppContext", False, False),
    ("burntray.io.log_tail", "FileState", False, True),
    ("burntray.io.log_tail", "TailStats", False, True),
]


def test_there_is_no_second_value_class_system() -> None:
    assert importlib.util.find_spec("burntray.record") is None


@pytest.mark.parametrize(("module", "name", "frozen", "slots"), VALUE_CLASSES)
def test_each_value_class_is_a_stdlib_dataclass(
    module: str, name: str, frozen: bool, slots: bool
) -> None:
    cls = getattr(importlib.import_module(module), name)
    assert dataclasses.is_dataclass(cls)
    params = cls.__dataclass_params__
    assert (params.frozen, "__slots__" in cls.__dict__) == (frozen, slots)
    # frozen ones hash by value; mutable ones are unhashable (equal by value all the same)
    assert (cls.__hash__ is not None) == frozen


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
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.note = "x"  # type: ignore[misc]
    assert isinstance(dataclasses.FrozenInstanceError(), AttributeError)
    assert not hasattr(one, "__dict__")  # slotted: a snapshot's rows are made on every tick


def test_replace_goes_through_init_and_names_an_unknown_field() -> None:
    one = _snapshot()
    stale = dataclasses.replace(one, status=dataclasses.replace(one.status, stale=True))
    assert stale.status.stale and not one.status.stale
    assert stale != one and dataclasses.replace(stale, status=one.status) == one
    with pytest.raises(TypeError, match="colour"):
        dataclasses.replace(one, colour="red")  # type: ignore[call-arg]


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
