"""The team wire format: what a machine encodes is what a hub decodes, the record id is stable
per (host, source, key), and a hub validates each record on its own (one bad record is refused
with its reason, the rest are taken)."""

from __future__ import annotations

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from burntray.model.usage import UsageRecord
from burntray.runtime import team_wire

R = UsageRecord(1_780_000_000 * 10**9, "anthropic", "claude-opus-4-1", 10, 20, 30, 40, 0.75,
                "msg_1:req_1", session="s1", project="/work/p", cost_from_upstream=True,
                branch="main")  # fmt: skip


def _decode(body: bytes) -> list[team_wire.Batch]:
    req = ExportLogsServiceRequest()
    req.ParseFromString(body)
    return [team_wire.decode(rl) for rl in req.resource_logs]


def test_a_record_travels_whole_with_genai_attributes_and_its_id() -> None:
    body = team_wire.encode([team_wire.Sent("claude", R), team_wire.Sent("codex", R._replace(
        cost_usd=None, session="", project="", branch="", cost_from_upstream=False))],
        "laptop", "ana")  # fmt: skip
    req = ExportLogsServiceRequest()
    req.ParseFromString(body)
    rl = req.resource_logs[0]
    resource = {kv.key: kv.value.string_value for kv in rl.resource.attributes}
    assert resource["service.name"] == "burntray"
    assert (resource["host.name"], resource["user.name"]) == ("laptop", "ana")
    attrs = {kv.key for kv in rl.scope_logs[0].log_records[0].attributes}
    assert {"gen_ai.request.model", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens",
            "gen_ai.provider.name", "burntray.record_id", "session.id"} <= attrs  # fmt: skip
    [batch] = _decode(body)
    assert (batch.host, batch.user, batch.rejected) == ("laptop", "ana", 0)
    first, second = batch.records
    rid = team_wire.record_id("laptop", "claude", R.key)
    assert first == R._replace(key=f"claude:{rid}")
    assert second.cost_usd is None and not second.cost_from_upstream
    assert second.key.startswith("codex:")


def test_the_record_id_is_stable_and_differs_by_host_source_and_key() -> None:
    a = team_wire.record_id("laptop", "claude", "k1")
    assert a == team_wire.record_id("laptop", "claude", "k1")
    assert len(a) == 32
    assert len({a, team_wire.record_id("box", "claude", "k1"),
                team_wire.record_id("laptop", "codex", "k1"),
                team_wire.record_id("laptop", "claude", "k2")}) == 4  # fmt: skip


def test_a_bad_record_is_refused_alone_with_its_reason() -> None:
    body = team_wire.encode([team_wire.Sent("claude", R._replace(key=f"k{i}")) for i in range(3)],
                            "laptop", "ana")  # fmt: skip
    req = ExportLogsServiceRequest()
    req.ParseFromString(body)
    logs = req.resource_logs[0].scope_logs[0].log_records
    for kv in logs[1].attributes:
        if kv.key == "gen_ai.usage.input_tokens":
            kv.value.int_value = -5
    for kv in logs[2].attributes:
        if kv.key == "burntray.cost_usd":
            kv.value.double_value = float("nan")
    batch = team_wire.decode(req.resource_logs[0])
    assert len(batch.records) == 1 and batch.rejected == 2
    assert "burntray.cost_usd" in batch.reason
    # a resource without a host name: every record refused, said
    del req.resource_logs[0].resource.attributes[:]
    req.resource_logs[0].resource.attributes.add(key="service.name").value.string_value = "burntray"
    batch = team_wire.decode(req.resource_logs[0])
    assert batch.records == [] and batch.rejected == 3
    assert batch.reason == "resource: host.name is missing"


def test_only_burntray_resources_are_team_records() -> None:
    req = ExportLogsServiceRequest()
    req.ParseFromString(team_wire.encode([team_wire.Sent("claude", R)], "h", "u"))
    tool = req.resource_logs.add()
    tool.resource.attributes.add(key="service.name").value.string_value = "claude-code"
    ours, others = team_wire.split(req.resource_logs)
    assert len(ours) == 1 and len(others) == 1
