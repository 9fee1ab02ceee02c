"""Factory Droid's session settings: each session's running token totals, as they grow.

Where (see ``.paths``): every ``<session>.settings.json`` below each sessions folder. Droid
rewrites it as the session goes: ``model`` (a display name such as
``custom:Claude-Opus-4.5-[Anthropic]``), ``providerLock`` (the provider),
``providerLockTimestamp`` (when the session settled on it) and ``tokenUsage``: the session's
totals so far, ``inputTokens`` (not read from cache), ``outputTokens``, ``cacheCreationTokens``,
``cacheReadTokens``, ``thinkingTokens`` and sometimes ``totalTokens``. Without ``model`` the
session's ``<session>.jsonl`` names it on a ``Model: ...`` line.

Droid keeps no per-request usage: burntray records what a session adds. The first time a
session is seen, its totals are one record at ``providerLockTimestamp`` (else the file's time),
as ccusage dates it; each later change of the totals is a record of the difference, at the
time the file was written. A session found in two files (an archived copy) counts once, from
the latest. Output is ``outputTokens + thinkingTokens`` (thinking billed as output); a total
beyond the fields counts as output too (all of it when the output is missing). Priced from the
table by provider and model; an unknown model is unpriced, never $0. Which files changed, and
the resume state in parts: ``.files``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import cast

import msgspec

from burntray.io.bounded_read import UnsafeFileError, open_regular_file
from burntray.model.pricing import PriceTable
from burntray.model.timefmt import TimeFormatError
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.state_parts import Parts, bucket
from burntray.sources.agent_logs.stores import Stamp, WholeFiles, load_state_parts
from burntray.sources.agent_logs.values import (
    ProviderPrices,
    count,
    new_record,
    record_defaults,
    stamp_ns,
    text,
)
from burntray.sources.agent_logs.whole import WholeFileReader
from burntray.sources.droid.files import DroidFiles, Index

_AFTER_SESSION = record_defaults(10)  # a record's fields after its session

SUFFIX = ".settings.json"
SIDECAR_LINES = 500
SIDECAR_BYTES = 4 * 1024 * 1024
_PROVIDERS = {
    "claude": "anthropic", "anthropic": "anthropic", "openai": "openai", "google": "google",
    "google_ai": "google", "gemini": "google", "vertex": "google", "vertex_ai": "google",
    "xai": "xai", "x_ai": "xai", "grok": "xai",
}  # fmt: skip
_DEFAULT_MODELS = {"anthropic": "claude-unknown", "openai": "gpt-unknown",
                   "google": "gemini-unknown", "xai": "grok-unknown"}  # fmt: skip
_BRACKETS = re.compile(r"\[[^\]]*\]")
_DASHES = re.compile(r"[\s\-]+")

Totals = tuple[int, int, int, int]  # input, output (thinking in), cache write, cache read
# (session, file, dated ns, written ns, model, provider, totals)
Snapshot = tuple[str, str, int, int, str, str, Totals]


def _order(snap: Snapshot) -> tuple[int, int, str]:
    return snap[2], snap[3], snap[1]


class _Usage(msgspec.Struct, gc=False):
    inputTokens: object = 0
    outputTokens: object = 0
    cacheCreationTokens: object = 0
    cacheReadTokens: object = 0
    thinkingTokens: object = 0
    totalTokens: object = 0


class _Settings(msgspec.Struct, gc=False):
    model: object = None
    providerLock: object = None
    providerLockTimestamp: object = None
    tokenUsage: _Usage | None = None


_DECODER = msgspec.json.Decoder(_Settings)


class _SavedFiles(msgspec.Struct, gc=False):
    stamps: dict[str, tuple[int, int, int, int]] = {}
    skipped: dict[str, str] = {}


class _Saved(msgspec.Struct, gc=False):
    """The resume state as burntray before issue 24's warm work wrote it (one document): the
    files' stamps and why some were not counted, and each session's [file, first dated,
    totals]. Read once, into the layout below."""

    files: _SavedFiles | None = None
    sessions: dict[str, tuple[str, int, list[int]]] = {}


_SAVED = msgspec.json.Decoder(_Saved)


class _Index(msgspec.Struct, gc=False):
    """The resume state: the files' index (``.files``) and the version of each part kept under
    a key of its own (a folder's stamps, a bucket of sessions' totals)."""

    v: int = 0
    index: Index | None = None
    parts: dict[str, int] = {}


_INDEX = msgspec.json.Decoder(_Index)
_bucket = bucket  # of sessions: a changed session reads and writes back 1/64 of their totals


def model_name(raw: str) -> str:
    """Droid's display name as a model id: ``custom:`` and bracketed tags dropped, lower case,
    spaces as dashes (dots kept: ``claude-opus-4.5`` prices as ``claude-opus-4-5``)."""
    name = _BRACKETS.sub("", raw.removeprefix("custom:")).strip().lower()
    return _DASHES.sub("-", name).strip("-")


def provider_of(lock: str, model: str) -> str:
    """The provider of a session's lock and model (``_provider``), worked out once per pair."""
    try:
        return _PROVIDER_OF[lock, model]
    except KeyError:
        provider = _provider(lock, model)
        if len(_PROVIDER_OF) < _MEMO_MAX:
            _PROVIDER_OF[lock, model] = provider
        return provider


def _model_id(raw: str) -> str:
    """``model_name``, worked out once per display name: 20,000 sessions name a few models,
    and two regular expressions per session were a tenth of a first scan's read."""
    try:
        return _MODEL_ID[raw]
    except KeyError:
        name = model_name(raw)
        if len(_MODEL_ID) < _MEMO_MAX:
            _MODEL_ID[raw] = name
        return name


_MEMO_MAX = 4096  # display names and (lock, model) pairs kept, at most
_MODEL_ID: dict[str, str] = {}
_PROVIDER_OF: dict[tuple[str, str], str] = {}


def _provider(lock: str, model: str) -> str:
    provider = _PROVIDERS.get(lock.lower().replace("-", "_"), lock.lower())
    if provider:
        return provider
    if any(w in model for w in ("claude", "opus", "sonnet", "haiku")):
        return "anthropic"
    if model.startswith("gpt-") or "-gpt-" in model or re.match(r"o\d", model):
        return "openai"
    return "google" if "gemini" in model else "xai" if "grok" in model else ""


def sidecar_model(settings: Path) -> str:
    """The model a ``Model: ...`` line of the session's ``.jsonl`` names (its first lines,
    read as a bounded regular file), or ""."""
    sidecar = settings.with_name(settings.name.removesuffix(SUFFIX) + ".jsonl")
    try:
        with open_regular_file(sidecar, None) as fh:
            head = fh.read(SIDECAR_BYTES)
    except UnsafeFileError:
        return ""
    for line in head.split(b"\n")[:SIDECAR_LINES]:
        _before, found, tail = line.partition(b"Model:")
        if found:
            raw = re.split(rb'["\\\[]', tail, maxsplit=1)[0].decode("utf-8", "replace").strip()
            if raw and (name := model_name(raw)):
                return name
    return ""


class DroidReader(WholeFileReader):
    """Reads the changed session settings in every Droid sessions folder."""

    what = "Droid sessions folder"
    suffixes = (SUFFIX,)

    def __init__(
        self,
        folders: Iterable[Path],
        prices: PriceTable,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        super().__init__(folders, prices)
        self._prices = ProviderPrices(prices)
        # the parts of the resume state kept apart: per folder its files' stamps, per bucket
        # its sessions' [file, first seen ns, totals] (what was recorded so far)
        self.parts = Parts("droid/")
        self.files = DroidFiles(self.roots(self.data_dirs), SUFFIX, self.parts, clock_ns)
        self._files = cast("WholeFiles", self.files)  # the same interface, per folder
        self._seen: list[tuple[str, Stamp, _Settings]] = []  # read in this pass

    def parse(self, path: Path, data: bytes, stamp: Stamp, out: list[UsageRecord]) -> str:
        return self._take(str(path), data, stamp)

    def _take(self, path: str, data: bytes, stamp: Stamp) -> str:
        try:
            settings = _DECODER.decode(data)
        except msgspec.DecodeError as exc:
            return f"not Droid settings: {exc}"
        self._seen.append((path, stamp, settings))
        return ""

    def finish(self, out: list[UsageRecord]) -> None:
        latest: dict[str, Snapshot] = {}
        for snap in (self._parse(*s) for s in self._seen):
            # of two files of one session read now, the latest snapshot (then the later path)
            if snap is not None and (
                snap[0] not in latest or _order(snap) >= _order(latest[snap[0]])
            ):
                latest[snap[0]] = snap
        self._seen = []
        for session, file, at_ns, mtime_ns, model, provider, totals in latest.values():
            self._observe(session, file, at_ns, mtime_ns, model, provider, totals, out)

    def _parse(
        self, path: str, stamp: tuple[int, int, int, int], settings: _Settings
    ) -> Snapshot | None:
        usage = settings.tokenUsage
        if usage is None:
            return None
        inp, out = count(usage.inputTokens), count(usage.outputTokens)
        write, read = count(usage.cacheCreationTokens), count(usage.cacheReadTokens)
        thinking, total = count(usage.thinkingTokens), count(usage.totalTokens)
        missing = max(0, total - (inp + out + write + read + thinking))
        if missing and out == 0:
            out = missing
        else:
            thinking += missing
        totals = (inp, out + thinking, write, read)
        if not any(totals):
            return None
        lock = text(settings.providerLock)
        model = _model_id(text(settings.model)) or sidecar_model(Path(path))
        provider = provider_of(lock, model)
        model = model or _DEFAULT_MODELS.get(provider, "unknown")
        try:
            at_ns = stamp_ns(text(settings.providerLockTimestamp))
        except TimeFormatError:
            at_ns = stamp[3]
        session = os.path.basename(path).removesuffix(SUFFIX) or "unknown"
        return session, path, at_ns, stamp[3], model, provider, totals

    def _observe(  # noqa: PLR0917 - a session's snapshot
        self, session: str, path: str, at_ns: int, mtime_ns: int, model: str, provider: str,
        totals: Totals, out: list[UsageRecord],
    ) -> None:  # fmt: skip
        bucket = _bucket(session)
        sessions = self.parts.get(bucket)
        known = sessions.get(session)
        if not _well_formed(known):
            sessions[session] = [path, at_ns, list(totals)]
            self.parts.changed(bucket)
            out.append(self._record(f"d:{session}", at_ns, model, provider, session, totals))
            return
        assert known is not None
        old_path, first_ns, old = known
        assert isinstance(first_ns, int) and isinstance(old, list)
        if old_path != path and at_ns < first_ns:
            return  # an older copy of a session read from its latest file
        delta: Totals = tuple(max(0, a - b) for a, b in zip(totals, old, strict=True))
        sessions[session] = [path, max(first_ns, at_ns), list(totals)]
        self.parts.changed(bucket)
        if any(delta):
            key = f"d:{session}:{mtime_ns}"
            out.append(self._record(key, mtime_ns, model, provider, session, delta))

    def _record(  # noqa: PLR0917 - a record's parts
        self, key: str, ts: int, model: str, provider: str, session: str, totals: Totals
    ) -> UsageRecord:
        inp, out, write, read = totals
        cost = self._prices.cost(provider, model, inp, out, read, write)
        return new_record((ts, provider, model, inp, out, read, write, cost, key, session,
                           *_AFTER_SESSION))  # fmt: skip

    def read_new(self, active_since_ns: int | None = None) -> list[UsageRecord]:
        """``WholeFileReader.read_new`` over the files' names as text (``DroidFiles``)."""
        out: list[UsageRecord] = []
        files = self.files
        for _root, path, stamp in files.changed():
            data = files.read(path)
            if data is None:
                continue
            self.files_read += 1
            files.done(path, stamp, self._take(path, data, stamp))
        self.finish(out)
        self.files_seen = files.files_seen
        self.missing = self.missing_reason()
        files.settle()
        return out

    def save_state(self) -> str:
        """The index, once the parts that changed are written under their own keys."""
        parts = self.parts.save()
        return msgspec.json.encode(_Index(2, self.files.save_state(), parts)).decode()

    def load_state(self, text: str) -> None:
        try:
            saved = _INDEX.decode(text)
        except msgspec.DecodeError:
            saved = _Index()
        if saved.v == 2 and saved.index is not None:
            self.files.index = saved.index
            self.parts.take(saved.parts)
            return
        self._take_former(text)

    def _take_former(self, text: str) -> None:
        """A state of the former layout (one document), split into the parts; each folder is
        listed once (its stamps as they were: an unchanged file is not read again)."""
        stamps: dict[str, object] = {}
        skipped: dict[str, object] = {}
        sessions: dict[str, object] = {}
        try:
            former = _SAVED.decode(text)
            if former.files is not None:
                stamps, skipped = dict(former.files.stamps), dict(former.files.skipped)
            sessions = dict(former.sessions)
        except msgspec.DecodeError:  # not JSON, or an entry of another shape: every
            parts = load_state_parts(text)  # well-formed entry is kept, as it always was
            files = parts.get("files")
            files = files if isinstance(files, dict) else {}
            found = files.get("stamps")
            stamps = (
                {k: v for k, v in found.items() if _is_stamp(v)} if isinstance(found, dict) else {}
            )
            found = files.get("skipped")
            skipped = found if isinstance(found, dict) else {}
            found = parts.get("sessions")
            sessions = (
                {k: v for k, v in found.items() if _well_formed(v)}
                if isinstance(found, dict)
                else {}
            )
        split: dict[str, dict[str, list[object]]] = {}
        for path, stamp in stamps.items():
            folder, name = os.path.split(path)
            split.setdefault("d:" + folder, {})[name] = list(cast("list[int]", stamp))
        for session, known in sessions.items():
            split.setdefault(_bucket(session), {})[session] = list(cast("list[object]", known))
        self.parts.put_all(split)
        self.files.index = Index(skipped={k: str(v) for k, v in skipped.items() if k in stamps})
        self.files.progress += 1  # saved in the new layout after the next pass

    def forget(self) -> None:
        self.parts.reset()


def _is_stamp(value: object) -> bool:
    return isinstance(value, list) and len(value) == 4 and all(type(x) is int for x in value)


def _well_formed(known: object) -> bool:
    """A session's [file, first dated, totals] as saved."""
    return (
        isinstance(known, list | tuple)
        and len(known) == 3
        and isinstance(known[1], int)
        and isinstance(known[2], list)
    )
