"""``record`` classes behave as the ``@dataclass(frozen=True, slots=True)`` they replace: each
behaviour is compared with a real dataclass of the same shape."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

from burntray.record import COMPILE_AFTER, FrozenInstanceError, asdict, field, record, replace


@record
class Rec:
    name: str
    count: int = 0
    tags: tuple[str, ...] = field(default_factory=tuple)
    note: str = field(default="-")

    @property
    def double(self) -> int:
        return self.count * 2


@dataclasses.dataclass(frozen=True, slots=True)
class Dc:
    name: str
    count: int = 0
    tags: tuple[str, ...] = dataclasses.field(default_factory=tuple)
    note: str = dataclasses.field(default="-")

    @property
    def double(self) -> int:
        return self.count * 2


@record(frozen=False, slots=False)
class Mutable:
    value: int
    _private: list[int] = field(default_factory=list)


CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    (("a",), {}),
    (("a", 2), {}),
    (("a", 2, ("x",), "n"), {}),
    ((), {"name": "a", "note": "k"}),
    (("a",), {"tags": ("y", "z")}),
]


@pytest.mark.parametrize(("args", "kwargs"), CALLS)
def test_same_fields_repr_eq_hash_as_a_dataclass(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    ours, theirs = Rec(*args, **kwargs), Dc(*args, **kwargs)
    assert repr(ours) == repr(theirs).replace("Dc(", "Rec(")
    assert dataclasses.astuple(theirs) == tuple(getattr(ours, n) for n in Rec.__match_args__)
    assert Rec.__match_args__ == Dc.__match_args__
    assert ours == Rec(*args, **kwargs) and hash(ours) == hash(Rec(*args, **kwargs))
    assert ours != replace(ours, count=ours.count + 1)
    assert ours.double == theirs.double
    assert ours != theirs  # another class is never equal, as between two dataclasses


BAD_CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((), {}),
    (("a", 1, (), "n", "extra"), {}),
    (("a",), {"name": "b"}),
    (("a",), {"colour": "red"}),
]


@pytest.mark.parametrize(("args", "kwargs"), BAD_CALLS)
def test_bad_calls_raise_type_error_as_a_dataclass(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(TypeError):
        Dc(*args, **kwargs)
    with pytest.raises(TypeError):
        Rec(*args, **kwargs)


def test_frozen_slotted_and_fresh_defaults() -> None:
    one = Rec("a")
    with pytest.raises(FrozenInstanceError):
        one.count = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del one.name  # type: ignore[misc]
    with pytest.raises(AttributeError):
        one.other = 1  # type: ignore[attr-defined]
    assert not hasattr(one, "__dict__")
    assert Mutable(1)._private is not Mutable(1)._private


def test_replace_copy_pickle_and_match() -> None:
    one = Rec("a", 2, ("t",))
    assert replace(one, note="z") == Rec("a", 2, ("t",), "z")
    with pytest.raises(TypeError):
        replace(one, colour="red")
    assert copy.copy(one) == one == copy.deepcopy(one)
    assert pickle.loads(pickle.dumps(one)) == one
    match one:
        case Rec(name, count):
            assert (name, count) == ("a", 2)
        case _:
            pytest.fail("no match")


def test_a_mutable_record_is_unhashable_and_settable() -> None:
    one = Mutable(1)
    one.value = 2
    assert one == Mutable(2) and replace(one, _private=[1]) == Mutable(2, [1])
    with pytest.raises(TypeError):
        hash(one)


def test_a_required_field_after_a_default_is_refused() -> None:
    with pytest.raises(TypeError):

        @record
        class Wrong:
            first: int = 0
            second: int  # type: ignore[misc]


def test_a_class_made_often_gets_its_own_init_that_behaves_the_same() -> None:
    """After ``COMPILE_AFTER`` instances a record's ``__init__`` is compiled for its fields:
    every call above answers the same through it."""

    @record
    class Often:
        name: str
        count: int = 0
        tags: tuple[str, ...] = field(default_factory=tuple)
        items: list[int] = field(default_factory=list)

    shared = Often.__init__
    made = [Often(str(n), n) for n in range(COMPILE_AFTER + 1)]
    assert Often.__init__ is not shared
    assert made[-1] == Often(str(COMPILE_AFTER), COMPILE_AFTER, ())
    assert Often("a", items=[1]) == Often(name="a", count=0, tags=(), items=[1])
    assert Often("a").items is not Often("a").items
    assert repr(Often("a", 2)) == f"{Often.__qualname__}(name='a', count=2, tags=(), items=[])"
    for args, kwargs in [((), {}), (("a", 1, (), [], 5), {}), (("a",), {"name": "b"})]:
        with pytest.raises(TypeError):
            Often(*args, **kwargs)
    with pytest.raises(TypeError):
        Often("a", colour="red")  # type: ignore[call-arg]
    with pytest.raises(FrozenInstanceError):
        Often("a").count = 1  # type: ignore[misc]


@record
class Outer:
    inner: Rec
    many: tuple[Rec, ...] = ()
    by_name: dict[str, Rec] = field(default_factory=dict)
    plain: list[int] = field(default_factory=list)


@dataclasses.dataclass(frozen=True, slots=True)
class DcOuter:
    inner: Dc
    many: tuple[Dc, ...] = ()
    by_name: dict[str, Dc] = dataclasses.field(default_factory=dict)
    plain: list[int] = dataclasses.field(default_factory=list)


def test_asdict_is_dataclasses_asdict() -> None:
    """Records inside records, tuples, lists and dicts become dicts; other values stay."""
    ours = Outer(Rec("a", 1), (Rec("b"), Rec("c", 3)), {"k": Rec("d")}, [1, 2])
    theirs = DcOuter(Dc("a", 1), (Dc("b"), Dc("c", 3)), {"k": Dc("d")}, [1, 2])
    assert asdict(ours) == dataclasses.asdict(theirs)
    copied = asdict(ours)["plain"]
    assert copied == ours.plain and copied is not ours.plain  # a copy, as dataclasses makes
    assert asdict(Mutable(5)) == {"value": 5, "_private": []}
