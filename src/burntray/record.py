"""``record``: the value classes a short command builds, made without ``dataclasses``.

``burntray status --format tmux`` runs every few seconds, and building its ~20 value classes
with ``dataclasses`` cost half of its start (that module pulls ``inspect``, ``ast``, ``dis`` and
``tokenize`` in, then compiles six methods per class with ``exec``). A ``record`` class behaves
as ``@dataclass(frozen=True, slots=True)`` does where burntray uses it - the same ``__init__``
(positional or by name, defaults, ``field(default_factory=...)``), ``__repr__``, ``__eq__``
(same class, equal fields), ``__hash__`` (frozen ones), ``__match_args__``, assignment refused
with ``FrozenInstanceError`` (an ``AttributeError``), pickling and copying - but its methods are
shared closures, built with no ``exec``. ``replace`` and ``asdict`` are ``dataclasses.replace``
and ``dataclasses.asdict`` for records.

Only a class made often (``COMPILE_AFTER`` instances: a snapshot's rows on every tick of the
tray) gets an ``__init__`` of its own, compiled as dataclasses compiles one: the shared one
binds arguments in a loop, ~1 us more per instance. A short command never gets that far.

Rules kept simple on purpose: no inheritance between records, no ``__post_init__``, no
``InitVar``/``ClassVar`` fields (a record that needs one should be a dataclass).
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

if TYPE_CHECKING:
    from typing import dataclass_transform
else:

    def dataclass_transform(**_: object) -> Callable[[Any], Any]:
        """Typing only: mypy reads the real one and checks records like dataclasses."""
        return lambda decorated: decorated


T = TypeVar("T")
_MISSING: Any = object()
COMPILE_AFTER = 64  # instances made with the shared __init__ before the class gets its own


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen record (as ``dataclasses.FrozenInstanceError``)."""


class _Field:
    __slots__ = ("default", "default_factory")

    def __init__(self, default: Any, default_factory: Any) -> None:
        self.default = default
        self.default_factory = default_factory


@overload
def field(*, default: T) -> T: ...
@overload
def field(*, default_factory: Callable[[], T]) -> T: ...
def field(*, default: Any = _MISSING, default_factory: Any = _MISSING) -> Any:
    """A field's default, or the factory that makes a fresh one for each instance."""
    if (default is _MISSING) == (default_factory is _MISSING):
        raise ValueError("field() takes exactly one of default and default_factory")
    return _Field(default, default_factory)


@overload
def record(cls: type[T], /) -> type[T]: ...
@overload
def record(*, frozen: bool = True, slots: bool = True) -> Callable[[type[T]], type[T]]: ...
@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(
    cls: type[T] | None = None, /, *, frozen: bool = True, slots: bool = True
) -> type[T] | Callable[[type[T]], type[T]]:
    """Make ``cls`` a record class from its annotated fields (in order; see the module doc)."""

    def wrap(cls: type[T]) -> type[T]:
        return _build(cls, frozen, slots)

    return wrap if cls is None else wrap(cls)


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of the record ``obj`` with ``changes`` (field name -> value), as
    ``dataclasses.replace`` makes one: through ``__init__``, so defaults and checks apply."""
    names: tuple[str, ...] = type(obj).__record_fields__  # type: ignore[attr-defined]
    values = {name: changes.pop(name) if name in changes else getattr(obj, name) for name in names}
    if changes:
        raise TypeError(f"{type(obj).__qualname__} has no field {next(iter(changes))!r}")
    return type(obj)(**values)


def asdict(obj: object) -> dict[str, Any]:
    """The record's fields by name, as ``dataclasses.asdict`` gives them: records inside it
    (also in lists, tuples and dicts) become dicts too; other values are copied as they are."""
    names: tuple[str, ...] = type(obj).__record_fields__  # type: ignore[attr-defined]
    return {name: _plain(getattr(obj, name)) for name in names}


def _plain(value: Any) -> Any:
    if hasattr(type(value), "__record_fields__"):
        return asdict(value)
    if isinstance(value, list | tuple):
        return type(value)(map(_plain, value))
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _build(cls: type[T], frozen: bool, slots: bool) -> type[T]:
    if any(hasattr(base, "__record_fields__") for base in cls.__mro__[1:]):
        raise TypeError(f"{cls.__qualname__}: records do not inherit from records")
    qualname = cls.__qualname__
    owner: list[type] = []  # the class made below, for its __init__ to replace itself
    body = dict(cls.__dict__)
    names: list[str] = []
    defaults: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    for name, annotation in body.get("__annotations__", {}).items():
        if name in ("self", "_set", "_MISSING"):
            raise TypeError(f"{qualname}.{name}: a name the generated __init__ uses itself")
        if "ClassVar" in str(annotation) or "InitVar" in str(annotation):
            raise TypeError(f"{qualname}.{name}: records have no ClassVar or InitVar fields")
        value = body.get(name, _MISSING)
        if isinstance(value, _Field):
            if value.default_factory is not _MISSING:
                factories[name] = value.default_factory
                body.pop(name)
                delattr(cls, name)
            else:
                value = defaults[name] = value.default
                body[name] = value
                setattr(cls, name, value)
        elif value is not _MISSING:
            defaults[name] = value
        elif defaults or factories:
            raise TypeError(f"{qualname}: non-default field {name!r} after a default")
        names.append(name)
    fields = tuple(names)
    values: Callable[[Any], Any] = (
        attrgetter(*fields)  # a tuple of the field values (one field: the value itself)
        if len(fields) > 1
        else lambda self: tuple(getattr(self, name) for name in fields)
    )
    methods: dict[str, Any] = {
        "__init__": _init(qualname, fields, defaults, factories, owner),
        "__repr__": lambda self: (
            f"{type(self).__qualname__}("
            + ", ".join(f"{name}={getattr(self, name)!r}" for name in fields)
            + ")"
        ),
        "__eq__": lambda self, other: (
            values(self) == values(other) if other.__class__ is self.__class__ else NotImplemented
        ),
        "__match_args__": fields,
        "__record_fields__": fields,
    }
    if "__hash__" not in body:  # frozen: hashed by value; mutable: unhashable, as dataclasses
        methods["__hash__"] = (lambda self: hash(values(self))) if frozen else None
    if frozen:
        methods["__setattr__"] = _refuse_set
        methods["__delattr__"] = _refuse_del
        methods["__getstate__"] = lambda self: tuple(getattr(self, name) for name in fields)
        methods["__setstate__"] = lambda self, state: _set_all(self, fields, state)
    for name, method in methods.items():
        if name in body:
            continue  # the class's own method wins, as with dataclasses
        if callable(method):
            method.__qualname__ = f"{qualname}.{name}"
        body[name] = method
        if not slots:
            setattr(cls, name, method)
    if not slots:
        owner.append(cls)
        return cls
    for name in fields:
        body.pop(name, None)  # the defaults live in __init__, the slots hold the values
    body.pop("__dict__", None)
    body.pop("__weakref__", None)
    body["__slots__"] = fields
    metaclass: Any = type(cls)
    made = metaclass(cls.__name__, cls.__bases__, body)
    made.__qualname__ = qualname
    owner.append(made)
    return cast("type[T]", made)


def _init(
    qualname: str,
    fields: tuple[str, ...],
    defaults: dict[str, Any],
    factories: dict[str, Callable[[], Any]],
    owner: list[type],
) -> Callable[..., None]:
    count = len(fields)
    setter = object.__setattr__
    # for each count of positional arguments, the fields left: (name, default, factory)
    rests = tuple(
        tuple((name, defaults.get(name, _MISSING), factories.get(name)) for name in fields[n:])
        for n in range(count + 1)
    )
    made = 0

    def __init__(self: object, *args: Any, **kwargs: Any) -> None:
        nonlocal made
        made += 1
        if made >= COMPILE_AFTER and owner and owner[0].__dict__.get("__init__") is __init__:
            owner[0].__init__ = _compiled_init(  # type: ignore[misc]
                qualname, fields, defaults, factories
            )
        given = len(args)
        if given > count:
            raise TypeError(
                f"{qualname}() takes {count} positional arguments but {given} were given"
            )
        for name, value in zip(fields, args, strict=False):
            setter(self, name, value)
        for name, default, factory in rests[given]:
            value = kwargs.pop(name, default) if kwargs else default
            if value is _MISSING:
                if factory is None:
                    raise TypeError(f"{qualname}() missing required argument: {name!r}")
                value = factory()
            setter(self, name, value)
        if kwargs:
            name = next(iter(kwargs))
            if name in fields:
                raise TypeError(f"{qualname}() got multiple values for argument {name!r}")
            raise TypeError(f"{qualname}() got an unexpected keyword argument {name!r}")

    return __init__


def _compiled_init(
    qualname: str,
    fields: tuple[str, ...],
    defaults: dict[str, Any],
    factories: dict[str, Callable[[], Any]],
) -> Callable[..., None]:
    """The ``__init__`` dataclasses would write for these fields (one ``exec``)."""
    scope: dict[str, Any] = {"_set": object.__setattr__, "_MISSING": _MISSING}
    params, lines = ["self"], []
    for index, name in enumerate(fields):
        if name in factories:
            scope[f"_factory{index}"] = factories[name]
            params.append(f"{name}=_MISSING")
            lines.append(
                f"_set(self, {name!r}, _factory{index}() if {name} is _MISSING else {name})"
            )
        else:
            if name in defaults:
                scope[f"_default{index}"] = defaults[name]
                params.append(f"{name}=_default{index}")
            else:
                params.append(name)
            lines.append(f"_set(self, {name!r}, {name})")
    source = f"def __init__({', '.join(params)}):\n" + "".join(f"    {line}\n" for line in lines)
    exec(source, scope)  # noqa: S102 - generated from the class's own field names
    function: Callable[..., None] = scope["__init__"]
    function.__qualname__ = f"{qualname}.__init__"
    return function


def _refuse_set(self: object, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _refuse_del(self: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _set_all(self: object, fields: tuple[str, ...], state: tuple[Any, ...]) -> None:
    for name, value in zip(fields, state, strict=True):
        object.__setattr__(self, name, value)
