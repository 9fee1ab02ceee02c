"""A bound on the model names the OTLP receiver keeps, per tool.

The sender chooses its model names, and every distinct name becomes state: a row per model in
each snapshot (and in ``status --format json``), a row per model and minute in the history's
rollup, a series per model on ``/metrics``. A sender that puts a fresh name on each request
(a bug, or an attack) would grow all of them without bound. As Prometheus' client guidance
advises for label values, the receiver keeps at most ``limit`` provider/model pairs per tool
and counts the requests of any further one under the model ``other`` (the provider kept when it
is one burntray knows, else ``other`` too). Totals stay exact: a request is priced with its own
model name before the name is folded, and it still counts; only its name is lost.

A pair keeps its place while it is in use: one not seen for ``idle_ns`` (7 days) gives it up to
the next new name, so a tool's new model is not folded for ever after a burst of junk names.
The GenAI convention's senders are tools named by their ``service.name`` (also the sender's
choice): at most ``MAX_TOOLS`` of them are kept apart, the rest share one set of places.
Not thread-safe: the ledger calls it under its lock.
"""

from __future__ import annotations

from typing import Any, Final

from burntray.lazylog import get_logger

log = get_logger(__name__)

NS: Final = 1_000_000_000
DEFAULT_MAX_MODELS: Final = 100  # provider/model pairs per tool (otel.max_models)
IDLE_NS: Final = 7 * 86_400 * NS  # a pair unused this long gives up its place
MAX_TOOLS: Final = 32  # GenAI senders with places of their own (OTHER_TOOL's included)
OTHER: Final = "other"
OTHER_TOOL: Final = "genai:other"
KNOWN_PROVIDERS: Final = frozenset({"anthropic", "openai", "google"})


class NameBound:
    """``fold`` maps a request's (tool, provider, model) to the names it is counted under."""

    def __init__(self, limit: int = DEFAULT_MAX_MODELS, idle_ns: int = IDLE_NS) -> None:
        self.limit = limit
        self.idle_ns = idle_ns
        # tool -> (provider, model) -> when last used (epoch ns); at most ``limit`` per tool
        self._places: dict[str, dict[tuple[str, str], int]] = {}
        self.folded: dict[str, int] = {}  # tool -> requests counted as model "other" (all runs)
        self.changed = False  # a place was taken or given up since the owner last looked
        self._said: set[str] = set()  # tools whose first fold was logged
        self._folded_at_load: dict[str, int] = {}

    def fold(self, tool: str, provider: str, model: str, now_ns: int) -> tuple[str, str]:
        """The (provider, model) a request of ``tool`` at ``now_ns`` is counted under."""
        pair = (provider, model)
        key = self._tool_key(tool)
        places = self._places.setdefault(key, {})
        if pair in places:
            places[pair] = max(places[pair], now_ns)
            return pair
        if len(places) >= self.limit:
            self._free_idle(places, now_ns)
        if len(places) < self.limit:
            places[pair] = now_ns
            self.changed = True
            return pair
        self.folded[key] = self.folded.get(key, 0) + 1
        if key not in self._said:  # once per tool and run, with the key that moves the bound
            self._said.add(key)
            log.warning(
                "otel: %s sent over %d model names; requests of further ones are counted as "
                'model "other" (totals stay exact; otel.max_models raises the bound)',
                key,
                self.limit,
            )
        return (provider if provider in KNOWN_PROVIDERS else OTHER), OTHER

    def _tool_key(self, tool: str) -> str:
        """The tools burntray knows always have places of their own; other senders' (the GenAI
        convention's ``genai:<service.name>``) up to ``MAX_TOOLS``."""
        if tool in self._places or not tool.startswith("genai:"):
            return tool
        genai = sum(1 for t in self._places if t.startswith("genai:"))
        return tool if genai < MAX_TOOLS - 1 else OTHER_TOOL

    def _free_idle(self, places: dict[tuple[str, str], int], now_ns: int) -> None:
        for pair in [p for p, used in places.items() if now_ns - used >= self.idle_ns]:
            del places[pair]

    def models(self, tool: str) -> int:
        """How many pairs ``tool`` holds places for."""
        return len(self._places.get(tool, {}))

    def folded_since_start(self) -> dict[str, int]:
        """Requests folded per tool in this process (the saved state's count left out)."""
        out = {}
        for tool, n in self.folded.items():
            since = n - self._folded_at_load.get(tool, 0)
            if since > 0:
                out[tool] = since
        return out

    # --- resume state ------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "places": {
                tool: [[p, m, used] for (p, m), used in places.items()]
                for tool, places in self._places.items()
            },
            "folded": dict(self.folded),
        }

    def load(self, data: object) -> None:
        """Take a saved ``state()`` back; anything malformed in it is skipped, the rest kept
        (a limit lowered since is applied: the most recently used pairs keep their places)."""
        if not isinstance(data, dict):
            return
        places = data.get("places")
        if isinstance(places, dict):
            for tool, rows in list(places.items())[: MAX_TOOLS + 3]:
                if not isinstance(rows, list):
                    continue
                kept: dict[tuple[str, str], int] = {}
                for row in rows:
                    if (
                        isinstance(row, list)
                        and len(row) == 3
                        and isinstance(row[0], str)
                        and isinstance(row[1], str)
                        and isinstance(row[2], int)
                    ):
                        kept[(row[0], row[1])] = row[2]
                newest = sorted(kept.items(), key=lambda kv: -kv[1])[: self.limit]
                self._places[str(tool)] = dict(newest)
        folded = data.get("folded")
        if isinstance(folded, dict):
            for tool, n in list(folded.items())[: MAX_TOOLS + 3]:
                if isinstance(n, int) and n > 0:
                    self.folded[str(tool)] = n
            self._folded_at_load = dict(self.folded)
