"""Optional OTLP push of ``burntray serve``'s figures to a collector (``[export] otlp_endpoint``).

The same figures as ``/metrics``, sent with the official OpenTelemetry SDK: observable
instruments read the newest published ``Figures`` when the SDK's periodic reader collects, and
its OTLP/HTTP exporter sends them. The SDK is an optional extra (``burntray[otlp-export]``),
imported only when an endpoint is configured; without it, ``serve`` says how to install it and
goes on serving ``/metrics``.

Names: ``burntray.requests`` ({request}), ``burntray.tokens`` ({token}, attribute ``type``),
``burntray.cost`` (USD) - cumulative since ``serve`` started, the same running totals as the
``/metrics`` counters (they never go down, models past the cap are "other") - and the gauges
``burntray.window.requests``, ``burntray.window.cost``, ``burntray.alert.level``,
``burntray.source.up``. Attributes: ``source``, ``provider``, ``model`` (never a session id).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from burntray import __version__
from burntray.lazylog import get_logger
from burntray.serve.figures import ALERT_LEVELS, OTHER, FiguresBoard

log = get_logger(__name__)

INSTALL_HINT = "pip install 'burntray[otlp-export]'"


class OtlpPushUnavailable(RuntimeError):
    """The OpenTelemetry SDK is not installed."""


class OtlpPush:
    def __init__(self, board: FiguresBoard, endpoint: str, interval_s: float = 60.0) -> None:
        try:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import (  # noqa: PLC0415
                OTLPMetricExporter,
            )
            from opentelemetry.metrics import CallbackOptions, Observation  # noqa: PLC0415
            from opentelemetry.sdk.metrics import MeterProvider  # noqa: PLC0415
            from opentelemetry.sdk.metrics.export import (  # noqa: PLC0415
                PeriodicExportingMetricReader,
            )
            from opentelemetry.sdk.resources import Resource  # noqa: PLC0415
        except ImportError as exc:
            raise OtlpPushUnavailable(
                f"OTLP export needs the OpenTelemetry SDK ({exc.name} is missing): {INSTALL_HINT}"
            ) from None

        self.board = board
        self._observation = Observation
        url = endpoint.rstrip("/")
        if not url.endswith("/v1/metrics"):
            url += "/v1/metrics"
        self.endpoint = url
        self._reader = PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=url, timeout=10),
            export_interval_millis=max(interval_s, 1.0) * 1000,
        )
        resource = Resource.create({"service.name": "burntray", "service.version": __version__})
        self._provider = MeterProvider(resource=resource, metric_readers=[self._reader])
        meter = self._provider.get_meter("burntray")

        def observe(kind: str) -> Any:
            def callback(_options: CallbackOptions) -> Iterable[Any]:
                return self._observe(kind)

            return callback

        meter.create_observable_counter(
            "burntray.requests", [observe("requests")], unit="{request}"
        )
        meter.create_observable_counter("burntray.tokens", [observe("tokens")], unit="{token}")
        meter.create_observable_counter("burntray.cost", [observe("cost")], unit="USD")
        meter.create_observable_gauge("burntray.window.requests", [observe("window_requests")])
        meter.create_observable_gauge("burntray.window.cost", [observe("window_cost")], unit="USD")
        meter.create_observable_gauge("burntray.alert.level", [observe("alert_level")])
        meter.create_observable_gauge("burntray.source.up", [observe("source_up")])

    def _observe(self, kind: str) -> list[Any]:
        figures = self.board.get()
        if figures is None:
            return []
        obs = self._observation
        out: list[Any] = []
        window = figures.window
        src = {"source": window.source}
        if kind in ("requests", "tokens", "cost"):
            rows, _folded = self.board.counters()
            for (source, provider, model), values in rows:
                attrs = {"source": source, "provider": provider or OTHER, "model": model or OTHER}
                if kind == "requests":
                    out.append(obs(values.get("reqs", 0.0), attrs))
                elif kind == "cost":
                    out.append(obs(values.get("cost", 0.0), attrs))
                else:
                    out += [
                        obs(v, {**attrs, "type": name[7:]})
                        for name, v in values.items()
                        if name.startswith("tokens:")
                    ]
        elif kind == "window_requests":
            out.append(obs(window.totals.reqs, src))
        elif kind == "window_cost":
            out.append(obs(window.totals.cost_usd, src))
        elif kind == "alert_level":
            out.append(obs(ALERT_LEVELS.get(window.alert_level, 0), src))
        elif kind == "source_up":
            out.append(obs(1 if window.status.healthy else 0, src))
        return out

    def flush(self, timeout_s: float = 10.0) -> bool:
        return bool(self._provider.force_flush(int(timeout_s * 1000)))

    def close(self) -> None:
        try:
            self._provider.shutdown()
        except Exception:  # a collector that is gone must not stop burntray from exiting
            log.exception("otlp push: shutdown failed")
