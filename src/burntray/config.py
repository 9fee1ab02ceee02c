"""Settings: a frozen msgspec Struct, loaded from ``config.toml`` (saving: ``config_write``).

Every key is declared once in ``FIELDS`` with its parser (``config_values``), so each bad value
is reported with the key, the value and what is allowed; an unknown key is named with the
nearest known one. A bad key is left out and the rest of the file is used. Saving
(``config_write``) edits the user's own file in place (only the keys that changed; comments and
order kept), and a file that is not TOML at all is never overwritten: the app runs on defaults
and says so.
"""

from __future__ import annotations

import math
import os
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from msgspec import Struct, field
from msgspec.structs import replace as replace_fields

from burntray.config_cache import read_toml
from burntray.config_keys import ConfigField, names, text, url
from burntray.config_values import (
    duration_between,
    number_between,
    one_of,
    parse_bool,
    parse_percents,
    parse_poll_interval,
    parse_ratio,
    parse_retention,
    parse_source,
    parse_window,
    window_span_ns,
)
from burntray.errors import ConfigError
from burntray.io.hostport import host_port_parser
from burntray.model.timefmt import NS_PER_SECOND
from burntray.sources.registry import REGISTRY

# The window of a NEW configuration: the tray's first start, with no config.toml yet, writes one
# with it. Without a config.toml (scripts, tmux, `status`) and in a config.toml without a window
# key the window stays the rolling hour it always was: an existing choice is kept.
NEW_CONFIG_WINDOW = "today"
DEFAULT_SOURCE = "all"
ICON_FIGURES = ("rpm", "cost", "reqs", "limit", "none")  # "limit": the most used plan window %
PRICE_FIELDS = ("input", "output", "cache_read", "cache_write")


class Settings(Struct, frozen=True):
    """The settings in force: config.toml's values over the defaults."""

    window: str = "1h"
    source: str = DEFAULT_SOURCE
    poll_interval_s: float = 1.0
    icon_figure: str = "rpm"
    notifications: bool = True
    start_at_login: bool = False
    # Each source's own keys ("hexai.dir", "cburn.url", ...), declared by its registry entry;
    # a key not set here takes the field's default (see ``option``).
    source_options: Mapping[str, Any] = field(default_factory=dict)
    history_retention_days: int = 90
    # `burntray serve` (and the tray, when metrics_enabled): where /metrics is served
    serve_metrics: str = "127.0.0.1:9464"
    tray_metrics: bool = False
    serve_token: str = ""  # bearer token every /metrics, /healthz, /v1/status request carries
    serve_tls_cert: str = ""  # PEM certificate chain: /metrics (and the receiver) over https
    serve_tls_key: str = ""
    serve_allowed_hosts: str = ""  # more names a Host header may carry (a proxy's, a DNS name)
    export_otlp_endpoint: str = ""  # `burntray serve` pushes its figures there ("" = off)
    price_file: str = ""  # a LiteLLM-format JSON price file
    price_overrides: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    # [alerts]: see burntray.model.alerts for what each one does
    alert_spike_usd_per_hour: float = 5.0
    alert_spike_multiple: float = 3.0
    alert_short_window: str = "5m"
    alert_floor_usd: float = 0.10
    alert_hysteresis: float = 0.6
    alert_cooldown: str = "15m"
    alert_daily_budget_usd: float = 0.0  # 0 = no budget
    alert_rpm_threshold: float = 0.0  # 0 = no request-rate alert
    # plan windows (5-hour, weekly): see burntray.model.limit_alerts
    # a list for every window, or a table per window label ("5h", "weekly", "90m")
    alert_limit_thresholds: tuple[float, ...] | Mapping[str, tuple[float, ...]] = (80.0, 95.0)
    alert_limit_pace: bool = True
    alert_limit_reset: bool = True

    @property
    def window_ns(self) -> int:
        """The window's length now (a calendar window grows through its day or week)."""
        return window_span_ns(self.window, time.time_ns())

    def window_ns_at(self, now_ns: int) -> int:
        """The window's length at ``now_ns`` (a duration is the same at every instant)."""
        return window_span_ns(self.window, now_ns)

    def option(self, key: str) -> Any:
        """A source's config value: as set, else its declared default."""
        if key in self.source_options:
            return self.source_options[key]
        spec = REGISTRY.config_field(key)  # loads that source's spec only
        if spec is None:
            raise KeyError(f"no source declares the config key {key!r}")
        return spec.default

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied, validated like a loaded file. ``options=`` takes
        sources' keys by their dotted name: ``replace(options={"hexai.dir": "/x"})``."""
        options = changes.pop("options", None)
        if options:
            changes["source_options"] = {**self.source_options, **options}
        candidate = replace_fields(self, **changes)
        # only the source keys set: every source's defaults would load every source's spec
        return settings_from_toml(settings_to_toml(candidate, defaults=False), source="settings")


def all_fields() -> tuple[ConfigField, ...]:
    """The core keys, then every registered source's (this loads every source's spec)."""
    return (*FIELDS, *REGISTRY.config_fields())


FIELDS: tuple[ConfigField, ...] = (
    ConfigField(
        "window", "window", parse_window, "window shown: today, week, 5m 15m 1h 6h 24h 7d or 1m-31d"
    ),
    ConfigField("source", "source", parse_source, "all, auto or one source's name"),
    ConfigField("poll_interval", "poll_interval_s", parse_poll_interval, "seconds between reads"),
    ConfigField("icon_figure", "icon_figure", one_of(*ICON_FIGURES), "figure drawn in the icon"),
    ConfigField("notifications", "notifications", parse_bool, "desktop notifications on/off"),
    ConfigField("start_at_login", "start_at_login", parse_bool, "start burntray at login"),
    ConfigField("history.retention_days", "history_retention_days", parse_retention, "days kept"),
    ConfigField(
        "serve.metrics",
        "serve_metrics",
        host_port_parser("127.0.0.1:9464"),
        "where /metrics is served",
    ),
    ConfigField("serve.tray_metrics", "tray_metrics", parse_bool, "the tray serves /metrics too"),
    ConfigField("serve.token", "serve_token", text, "bearer token for /metrics and co."),
    ConfigField("serve.tls_cert", "serve_tls_cert", text, "PEM certificate: serve over https"),
    ConfigField("serve.tls_key", "serve_tls_key", text, "PEM key of serve.tls_cert"),
    ConfigField("serve.allowed_hosts", "serve_allowed_hosts", names, "more names for Host"),
    ConfigField(
        "export.otlp_endpoint", "export_otlp_endpoint", url, "OTLP/HTTP collector to push to"
    ),
    ConfigField("pricing.litellm_file", "price_file", text, "LiteLLM-format price JSON"),
    ConfigField(
        "alerts.spike_usd_per_hour",
        "alert_spike_usd_per_hour",
        number_between(0.01, 100_000, "USD per hour"),
        "spend rate that counts as a spike",
    ),
    ConfigField(
        "alerts.spike_multiple",
        "alert_spike_multiple",
        number_between(1, 1000, "a multiple"),
        "a spike is also this many times the last hour's rate",
    ),
    ConfigField(
        "alerts.short_window",
        "alert_short_window",
        duration_between(60 * NS_PER_SECOND, 3600 * NS_PER_SECOND),
        "window the spike rate is measured over",
    ),
    ConfigField(
        "alerts.floor_usd",
        "alert_floor_usd",
        number_between(0, 100_000, "USD"),
        "least spend in the short window that can alert",
    ),
    ConfigField(
        "alerts.hysteresis",
        "alert_hysteresis",
        parse_ratio,
        "a spike ends below this fraction of the threshold",
    ),
    ConfigField(
        "alerts.cooldown",
        "alert_cooldown",
        duration_between(0, 86400 * NS_PER_SECOND),
        "least time between two alerts of one kind",
    ),
    ConfigField(
        "alerts.daily_budget_usd",
        "alert_daily_budget_usd",
        number_between(0, 1_000_000, "USD (0 = no budget)"),
        "daily budget; alerts at 50/80/100 %",
    ),
    ConfigField(
        "alerts.rpm_threshold",
        "alert_rpm_threshold",
        number_between(0, 1_000_000, "requests per minute (0 = off)"),
        "request-rate alert (0 = off)",
    ),
    ConfigField(
        "alerts.limit_thresholds",
        "alert_limit_thresholds",
        parse_percents,
        "plan window % that alert, each once per window period (a list, or a table per window)",
    ),
    ConfigField(
        "alerts.limit_pace",
        "alert_limit_pace",
        parse_bool,
        "alert when a window runs out before reset",
    ),
    ConfigField(
        "alerts.limit_reset", "alert_limit_reset", parse_bool, "alert when a window resets"
    ),
)


def _price_overrides(value: object, errors: list[str], where: str) -> dict[str, dict[str, float]]:
    if not isinstance(value, dict):
        errors.append(f"{where}: pricing.models = {value!r} is not allowed: expected a table")
        return {}
    out: dict[str, dict[str, float]] = {}
    for model, row in value.items():
        key = f"pricing.models.{model!r}"
        if not isinstance(row, dict):
            errors.append(f"{where}: {key} = {row!r} is not allowed: expected a table of prices")
            continue
        clean: dict[str, float] = {}
        for name, price in row.items():
            if name not in PRICE_FIELDS:
                errors.append(
                    f"{where}: {key}.{name} is not a known key: use "
                    + ", ".join(PRICE_FIELDS)
                    + " (USD per million tokens)"
                )
            elif (
                not isinstance(price, int | float)
                or isinstance(price, bool)
                or not math.isfinite(price)
                or price < 0
            ):
                errors.append(
                    f"{where}: {key}.{name} = {price!r} is not allowed: "
                    "a number >= 0 (USD per million tokens)"
                )
            else:
                clean[name] = float(price)
        if clean and not {"input", "output"} <= clean.keys():
            errors.append(f"{where}: {key} needs both input and output prices")
        elif clean:
            out[str(model)] = clean
    return out


_CORE_FIELDS = {f.key: f for f in FIELDS}


def settings_from_toml(
    data: Mapping[str, Any], source: str = "config.toml", problems: list[str] | None = None
) -> Settings:
    """Validate a parsed TOML document. Without ``problems``: raise ``ConfigError`` listing
    every problem (a change asked for on the command line or in the menu is taken whole or
    not at all). With a list: each bad key is named there and left out (a key with a bad value
    keeps its default), and every valid key is still used: one typo must not throw away the
    rest of the user's file."""
    errors: list[str] = []
    values: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for dotted, value in flatten_keys(data):
        if dotted == "pricing.models":
            values["price_overrides"] = _price_overrides(value, errors, source)
            continue
        # a source's key loads that source's spec only (a file of core keys loads none)
        spec = _CORE_FIELDS.get(dotted) or REGISTRY.config_field(dotted)
        if spec is None:
            errors.append(f"{source}: {_unknown(dotted, {f.key: f for f in all_fields()})}")
            continue
        try:
            parsed = spec.parse(value)
        except ValueError as exc:
            default = getattr(Settings(), spec.attr) if spec.attr else spec.default
            errors.append(
                f"{source}: {dotted} = {value!r} is not allowed: expected {exc}"
                + (f"; using the default {default!r}" if problems is not None else "")
            )
            continue
        if spec.attr:
            values[spec.attr] = parsed
        elif parsed != spec.default:
            options[spec.key] = parsed
    if errors and problems is None:
        raise ConfigError("\n".join(errors))
    if problems is not None:
        problems.extend(errors)
    return Settings(**values, source_options=options)


def _unknown(dotted: str, known: Mapping[str, ConfigField]) -> str:
    """Why ``dotted`` is not a key, with the nearest key when one is close (a typo)."""
    import difflib  # noqa: PLC0415 - only for a bad file

    keys = [*known, "pricing.models"]
    inside = sorted(k for k in keys if k.startswith(dotted + "."))
    if inside:  # `serve = 5`: a table's name given a value
        return f"{dotted} is a table of keys ({', '.join(inside)}), not a value; ignored"
    close = difflib.get_close_matches(dotted, keys, n=1, cutoff=0.6)
    if not close:  # a typo in the key's last part: `alerts.spike_treshold`
        leaves = {k.rsplit(".", 1)[-1]: k for k in keys}
        close = [leaves[m] for m in difflib.get_close_matches(dotted.rsplit(".", 1)[-1], leaves, 1)]
    if close:
        return f"unknown key {dotted!r} ignored; did you mean `{close[0]}`?"
    return f"unknown key {dotted!r} ignored; known keys: " + ", ".join(
        [*known, "pricing.models.<model>"]
    )


# keys whose value may be a table of the user's own names (models, plan windows): one value
_TABLE_VALUES = frozenset({"pricing.models", "alerts.limit_thresholds"})


def flatten_keys(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if dotted in _TABLE_VALUES:
            out.append((dotted, value))
        elif isinstance(value, dict):
            out.extend(flatten_keys(value, dotted + "."))
        else:
            out.append((dotted, value))
    return out


def settings_to_toml(settings: Settings, defaults: bool = True) -> dict[str, Any]:
    """``settings`` as a TOML document: every key, or (``defaults`` false) every core key and
    only the source keys set (the same settings once read back)."""
    doc: dict[str, Any] = {}
    set_keys = filter(None, map(REGISTRY.config_field, settings.source_options))
    fields = all_fields() if defaults else (*FIELDS, *set_keys)
    for spec in fields:
        value = getattr(settings, spec.attr) if spec.attr else settings.option(spec.key)
        node = doc
        *parents, leaf = spec.key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        if isinstance(value, Mapping):  # a table of arrays (limit thresholds per window)
            value = {k: list(v) for k, v in value.items()}
        node[leaf] = list(value) if isinstance(value, tuple) else value  # a TOML array
    if settings.price_overrides:
        doc.setdefault("pricing", {})["models"] = {
            model: dict(row) for model, row in settings.price_overrides.items()
        }
    return doc


def load_config(path: Path, cache: Path | None = None) -> tuple[Settings, tuple[str, ...]]:
    """Settings from ``path`` (defaults when it does not exist) and the problems found in it:
    each unknown key or bad value is named and left out, the valid keys are used. Raises
    ``ConfigError`` only when the file cannot be read or is not TOML at all. With ``cache``,
    the file's parsed form is kept there and used while its text stays the same."""
    data = read_toml(path, cache)
    if data is None:
        return Settings(), ()
    problems: list[str] = []
    settings = settings_from_toml(data, source=str(path), problems=problems)
    return settings, tuple(problems)


def load_settings(path: Path) -> Settings:
    """``load_config``'s settings, its problems aside."""
    return load_config(path)[0]


def exposed_tokens(path: Path, settings: Settings) -> tuple[str, int]:
    """The token keys set in config.toml (``serve.token``, ``otel.token``, ...) when the file
    (or the file a link points to) can be read by other users, and its mode; ``("", 0)`` when
    nothing is exposed. burntray writes the file 0600, but one the user wrote is as they made
    it."""
    if os.name == "nt":  # Windows modes carry no access rights
        return "", 0
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return "", 0
    if not mode & 0o044:
        return "", 0
    keys = [
        spec.key
        for spec in all_fields()
        if spec.key.rsplit(".", 1)[-1] == "token"
        and (getattr(settings, spec.attr) if spec.attr else settings.option(spec.key))
    ]
    return ", ".join(keys), mode
