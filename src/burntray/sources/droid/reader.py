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
table by provider and model; an unknown model is unpriced, never $0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import cast

import msgspec

from burntray.io.bounded_read import UnsafeFileError, open_regular_file
from burntray.model.pricing import PriceTable
from burntray.model.timefmt import TimeFormatError, parse_rfc3339_ns
from burntray.model.usage import UsageRecord
from burntray.sources.agent_logs.stores import Stamp
from burntray.sources.agent_logs.values import ProviderPrices, count, text
from burntray.sources.agent_logs.whole import WholeFileReader

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
    """The resume state as ``save_state`` writes it: the files' stamps and why some were not
    counted, and each session's [file, first dated, totals]."""

    files: _SavedFiles | None = None
    sessions: dict[str, tuple[str, int, list[int]]] = {}


# A Droid user keeps a file per session: 20,000 sessions make a 4.6 MB state, read at every
# start. Decoded straight to its types it costs about half of a generic decode and then a
# check of every entry (a warm status reads it each time).
_SAVED = msgspec.json.Decoder(_Saved)


def model_name(raw: str) -> str:
    """Droid's display name as a model id: ``custom:`` and bracketed tags dropped, lower case,
    spaces as dashes (dots kept: ``claude-opus-4.5`` prices as ``claude-opus-4-5``)."""
    name = _BRACKETS.sub("", raw.removeprefix("custom:")).strip().lower()
    return _DASHES.sub("-", name).strip("-")


def provider_of(lock: str, model: str) -> str:
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

    def __init__(self, folders: Iterable[Path], prices: PriceTable) -> None:
        super().__init__(folders, prices)
        self._prices = ProviderPrices(prices)
        # session -> [file, first seen ns, totals]: what was recorded so far (a tuple when
        # read back from the resume state)
        self._sessions: dict[str, Sequence[object]] = {}
        self._seen: list[tuple[Path, Stamp, _Settings]] = []  # read in this pass

    def parse(self, path: Path, data: bytes, stamp: Stamp, out: list[UsageRecord]) -> str:
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
        self, path: Path, stamp: tuple[int, int, int, int], settings: _Settings
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
        model = model_name(text(settings.model)) or sidecar_model(path)
        provider = provider_of(lock, model)
        model = model or _DEFAULT_MODELS.get(provider, "unknown")
        try:
            at_ns = parse_rfc3339_ns(text(settings.providerLockTimestamp))
        except TimeFormatError:
            at_ns = stamp[3]
        session = path.name.removesuffix(SUFFIX) or "unknown"
        return session, str(path), at_ns, stamp[3], model, provider, totals

    def _observe(  # noqa: PLR0917 - a session's snapshot
        self, session: str, path: str, at_ns: int, mtime_ns: int, model: str, provider: str,
        totals: Totals, out: list[UsageRecord],
    ) -> None:  # fmt: skip
        known = self._sessions.get(session)
        if known is None:
            self._sessions[session] = [path, at_ns, list(totals)]
            out.append(self._record(f"d:{session}", at_ns, model, provider, session, totals))
            return
        old_path, first_ns, old = known
        assert isinstance(first_ns, int) and isinstance(old, list)
        if old_path != path and at_ns < first_ns:
            return  # an older copy of a session read from its latest file
        delta: Totals = tuple(max(0, a - b) for a, b in zip(totals, old, strict=True))
        self._sessions[session] = [path, max(first_ns, at_ns), list(totals)]
        if any(delta):
            key = f"d:{session}:{mtime_ns}"
            out.append(self._record(key, mtime_ns, model, provider, session, delta))

    def _record(  # noqa: PLR0917 - a record's parts
        self, key: str, ts: int, model: str, provider: str, session: str, totals: Totals
    ) -> UsageRecord:
        inp, out, write, read = totals
        cost = self._prices.cost(provider, model, inp, out, read, write)
        return UsageRecord(ts, provider, model, inp, out, read, write, cost, key, session)

    def more_state(self) -> dict[str, object]:
        return {"sessions": self._sessions}

    def load_state(self, text: str) -> None:
        try:
            saved = _SAVED.decode(text)
        except msgspec.DecodeError:  # not JSON, or an entry of another shape: the generic
            super().load_state(text)  # reading keeps every well-formed entry, as it did
            return
        if saved.files is not None:
            self.take_stamps(saved.files.stamps, saved.files.skipped)
        self._sessions = cast("dict[str, Sequence[object]]", saved.sessions)

    def load_more(self, parts: dict[str, object]) -> None:
        sessions = parts.get("sessions")
        if isinstance(sessions, dict):
            self._sessions = {
                k: v
                for k, v in sessions.items()
                if isinstance(v, list) and len(v) == 3 and isinstance(v[2], list)
            }

    def forget(self) -> None:
        self._sessions = {}
