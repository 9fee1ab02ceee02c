"""The OTLP receiver in the source registry (the receiving lives in ``sources.otel``).

It listens only where asked: ``source = "otel"``, ``burntray serve --otlp``, or
``otel.enabled = true`` (which lets ``all`` include it). It is never "found" on its own, since
listening on a port is a choice, not a discovery.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from burntray.config_keys import names, source_field, text
from burntray.io.hostport import host_port_parser
from burntray.sources.spec import ReceiverSpec, SourceSpec

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext

DEFAULT_LISTEN = "127.0.0.1:4318"


# the config parser for ``otel.listen``. Here, not in ``otel``: every validated Settings
# (``status --source ...`` too) runs it, and the receiver's module loads protobuf and http.server.
parse_listen = host_port_parser(DEFAULT_LISTEN)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def _grace(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 600:
        raise ValueError("seconds from 0 to 600")
    return float(value)


def _max_models(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise ValueError("a whole number from 1 to 10000")
    return value


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.otel.source import OtelSource  # noqa: PLC0415 - protobuf only when used

    return OtelSource(
        str(ctx.option("otel.listen")),
        ctx.prices,
        ctx.records_history(),
        ctx.clock_ns,
        token=str(ctx.option("otel.token")),
        grace_ns=int(float(ctx.option("otel.metric_grace_s")) * 1e9),
        receiver_options=receiver_options(ctx.option),
        max_models=int(ctx.option("otel.max_models")),
        team_host=_team_host(ctx),
    )


def _team_host(ctx: SourceContext) -> str:
    from burntray.runtime.team_sender import names  # noqa: PLC0415

    return names(ctx.option, ctx.env)[0]


def receiver_options(option: Callable[[str], object]) -> dict[str, str]:
    """The receiver's HTTP options from the ``otel.*`` keys (``option`` as ``Settings.option``)."""
    return {
        "allowed_hosts": str(option("otel.allowed_hosts")),
        "cors_origins": str(option("otel.cors_allowed_origins")),
        "tls_cert": str(option("otel.tls_cert")),
        "tls_key": str(option("otel.tls_key")),
    }


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    listen = ctx.option("otel.listen")
    if ctx.option("otel.enabled"):
        return True, f"receiving OTLP on {listen}"
    return False, f"off (set otel.enabled = true, or run burntray serve --otlp {listen})"


def _doctor(ctx: SourceContext) -> list[str]:
    listen = str(ctx.option("otel.listen"))
    lines = [
        f"listen       {listen} (OTLP/HTTP: POST /v1/logs, /v1/metrics)",
        f"enabled      {'yes' if ctx.option('otel.enabled') else 'no'} (in `all`)",
        "token        " + ("set" if ctx.option("otel.token") else "none (loopback only)"),
    ]
    history = ctx.records_history()
    if history is not None:
        from burntray.sources.otel.source import OtelSource  # noqa: PLC0415

        source = OtelSource(
            listen,
            ctx.prices,
            history,
            ctx.clock_ns,
            max_models=int(ctx.option("otel.max_models")),
        )
        try:
            for fact in source.facts()[1:]:
                lines.append(f"{fact.label.lower():<12} {fact.value}")
        finally:
            source.close()
    return lines


SPEC = SourceSpec(
    name="otel",
    label="OpenTelemetry (OTLP)",
    build=_build,
    probe=_probe,
    config_fields=(
        source_field("otel.enabled", _flag, "listen for OTLP in `all` (true/false)", False),
        source_field(
            "otel.listen", parse_listen, "where the OTLP/HTTP receiver listens", DEFAULT_LISTEN
        ),
        source_field("otel.token", text, "bearer token; required to listen beyond loopback", ""),
        source_field("otel.cors_allowed_origins", names, "web origins that may POST (CORS)", ""),
        source_field("otel.allowed_hosts", names, "more names a Host header may carry", ""),
        source_field("otel.tls_cert", text, "PEM certificate: receive over https", ""),
        source_field("otel.tls_key", text, "PEM key of otel.tls_cert", ""),
        source_field(
            "otel.metric_grace_s",
            _grace,
            "seconds a metric point waits for its request's log event",
            15.0,
        ),
        source_field(
            "otel.max_models",
            _max_models,
            'model names kept per tool; requests of further ones count as model "other"',
            100,
        ),
    ),
    # The tools that push usage over OTLP. Per request with the tool's own cost, so above a
    # summary of Claude Code's logs (cburn, detail 1); below a source reading the tools' own
    # log files (those hold history from before burntray listened).
    covers=frozenset({"claude-code", "codex", "gemini-cli"}),
    detail=5,
    # every record's key starts with its tool ("gemini-cli:..."): decided per tool in `all`
    per_upstream=True,
    doctor=_doctor,
    summary="usage pushed over OTLP/HTTP by Claude Code, Codex and Gemini CLI (live, with cost)",
    receiver=ReceiverSpec(label="OTLP receiver", enabled_key="otel.enabled"),
)
