"""Team reporting in the source registry: the ``hub`` source and the ``[team]`` keys.

A machine with ``[team] hub`` sends its records to that hub (``runtime.team_sender``); the hub
(``burntray serve --otlp``) stores them and ``source = "hub"`` shows them, per host. Once
machines reported, ``all`` on the hub adds them to its own sources; a hub keeps no records from
its own host name (``hub.ingest``), so its own requests count once, from its own sources.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from burntray.config_keys import source_field, text

if TYPE_CHECKING:
    from burntray.sources.base import Source, SourceContext

from burntray.sources.hub.counters import HUB_COUNTERS
from burntray.sources.hub.tables import HUB_MINUTES
from burntray.sources.spec import ReceiverSpec, SourceSpec

MAX_ALIAS = 128


def parse_hub(value: object) -> str:
    """``team.hub``: an http(s) URL of the hub's OTLP receiver ("" reports to none)."""
    given = text(value).strip().rstrip("/")
    if not given:
        return ""
    from urllib.parse import urlsplit  # noqa: PLC0415

    parts = urlsplit(given)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError('an http:// or https:// URL such as "https://hub.example:4318"')
    if parts.username or parts.password:
        raise ValueError("a URL without a user or password (put the secret in team.token)")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise ValueError(f"a URL with a valid port ({exc})") from None
    if parts.query or parts.fragment:
        raise ValueError("a URL without ?query or #fragment")
    return given


def parse_token(value: object) -> str:
    token = text(value).strip()
    if token and (len(token) > 4096 or any(ord(c) < 33 or ord(c) > 126 for c in token)):
        raise ValueError("printable ASCII without spaces, at most 4096 characters")
    return token


def parse_alias(value: object) -> str:
    alias = text(value).strip()
    if len(alias) > MAX_ALIAS or any(ord(c) < 32 for c in alias):
        raise ValueError(f"a name of at most {MAX_ALIAS} characters")
    return alias


def parse_flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def _build(ctx: SourceContext) -> Source:
    from burntray.sources.hub.source import HubSource  # noqa: PLC0415

    receiver = None
    # serve --source hub --otlp: the hub listens for its machines itself (in `all`, the otel
    # member listens: both on one port would collide)
    if ctx.settings.source == "hub" and ctx.option("otel.enabled"):
        from burntray.sources import otel  # noqa: PLC0415

        receiver = otel.SPEC.build(ctx)
    return HubSource(ctx.records_history(), ctx.clock_ns, receiver, ctx.prices)  # type: ignore[arg-type]


def _doctor(ctx: SourceContext) -> list[str]:
    """Where this machine reports and what it still owes (the token: only whether it is set)."""
    from burntray.runtime.team_sender import TeamConfigError, target  # noqa: PLC0415
    from burntray.store.team import TeamOutbox, by_host  # noqa: PLC0415

    lines = []
    try:
        where = target(ctx.option)
    except TeamConfigError as exc:
        where = None
        lines.append(f"reporting    REFUSED: {exc}")
    if where is not None:
        lines.append(f"reporting    to {where.url} as host {where.host}, user {where.user or '-'}")
        lines.append("token        " + ("set" if where.token else "none"))
    elif not lines:
        lines.append("reporting    no ([team] hub not set)")
    history = ctx.records_history()
    if history is not None:
        outbox = TeamOutbox(history)
        if outbox.cursor() or outbox.pending():
            lines.append(f"queue        {outbox.pending()} records not yet acknowledged by the hub")
        hosts = by_host(history, "hub", 0, 2**62)
        if hosts:
            total = sum(h.reqs for h in hosts)
            lines.append(f"received     {total} records from {len(hosts)} hosts")
        # the minutes of sources without per-request records (hexai, cburn, ctm)
        history.require((HUB_MINUTES, HUB_COUNTERS))
        count = sum(
            int(str(history.execute(f"SELECT count(*) FROM {t.name}")[0][0]))  # noqa: S608
            for t in (HUB_MINUTES, HUB_COUNTERS)
        )
        if count:
            lines.append(f"received     {count} per-minute rollups (hexai, cburn, ctm)")
    return lines


def _probe(ctx: SourceContext) -> tuple[bool, str]:
    """Present (in `all`) once machines reported here: one index seek in the history (none
    opened when there is no history yet: a quick ``status`` loads no sqlite3 for it)."""
    absent = "no machine has reported to this burntray (serve --source hub --otlp)"
    if not ctx.paths.history_db.exists():
        return False, absent
    history = ctx.records_history()
    if history is not None:
        from burntray.store.usage_events import UsageEvents  # noqa: PLC0415

        try:
            if (
                UsageEvents(history).has_records("hub")
                or history.execute("SELECT 1 FROM hub_minutes LIMIT 1")
                or history.execute("SELECT 1 FROM hub_counter_minutes LIMIT 1")
            ):
                return True, "records from the team's machines in the history"
        except Exception as exc:  # an unreadable history is the history's problem, said there
            return False, f"history unreadable: {exc}"
    return False, absent


def _view_rows(history, dims, start_ns, end_ns, keys=None):  # type: ignore[no-untyped-def]
    from burntray.sources.hub.views import view_rows  # noqa: PLC0415

    return view_rows(history, dims, start_ns, end_ns, keys)


SPEC = SourceSpec(
    name="hub",
    label="Team hub",
    build=_build,
    probe=_probe,
    config_fields=(
        source_field("team.hub", parse_hub, "send this machine's usage to this hub (URL)", ""),
        source_field("team.token", parse_token, "bearer token the hub asks for", ""),
        source_field(
            "team.allow_insecure",
            parse_flag,
            "allow plain http:// to a hub that is not on loopback (true/false)",
            False,
        ),
        source_field("team.host", parse_alias, "this machine's name at the hub (host.name)", ""),
        source_field("team.user", parse_alias, "your name at the hub (user.name)", ""),
        source_field("team.ca_file", text, "PEM CA bundle that signed the hub's certificate", ""),
    ),
    summary="what a team's machines report to this burntray over OTLP (serve --otlp)",
    history_tables=(HUB_MINUTES, HUB_COUNTERS),
    view_rows=_view_rows,
    doctor=_doctor,
    # serve --source hub --otlp: its receiver is checked at start and by /healthz
    receiver=ReceiverSpec(label="OTLP receiver", enabled_key="otel.enabled", alone=True),
)
