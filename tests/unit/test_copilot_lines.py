"""Copilot CLI's telemetry lines decoded to only the fields read: the shapes a line can take
besides a span or log record, and the order the records' keys are made from."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from burntray.model.pricing import build_price_table
from burntray.sources.copilot.reader import CopilotReader
from tests.agent_logs_support import copilot_chat_span, copilot_usage

LONG_AGO_NS = 10**18  # the reader's clock: far past every record (nothing is held back)


def _log(at_s: int, inp: int, body: str = "GenAI inference: gpt-5") -> str:
    """An inference log with no trace or span: its key holds its place in the file."""
    attrs = {"gen_ai.response.model": "gpt-5", "session.id": "s1", **copilot_usage(inp, 7)}
    return json.dumps({"timestamp": at_s * 1000, "attributes": attrs, "_body": body})


def test_lines_of_other_shapes_and_the_places_keys_hold(tmp_path: Path) -> None:
    otel = tmp_path / "otel"
    otel.mkdir()
    at = int(dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC).timestamp())
    # digits as text count; the session named with spaces around it
    texts = {"gen_ai.usage.input_tokens": "12", "session.id": " s2 ",
             "event.name": "gen_ai.client.inference.operation.details"}  # fmt: skip
    chat = copilot_chat_span("t1", "c1", "2026-11-20T09:05:00+00:00", "gpt-5",
                             copilot_usage(1000, 40, 500))  # fmt: skip
    lines = [
        '["attributes"]',  # JSON, not an object: no record, not counted as malformed
        json.dumps({"attributes": ["a", "list"]}),  # a record whose attributes carry nothing
        _log(at, 100),  # the second object line: place 1
        '{"attributes": {"gen_ai.usage.input_tokens": 5',  # cut off: malformed
        json.dumps({"attributes": texts, "timestamp": at}),
        chat,
        "",
    ]
    (otel / "copilot.jsonl").write_text("\n".join(lines))
    reader = CopilotReader(otel, None, build_price_table(), lambda: LONG_AGO_NS * 2)
    by_key = {r.key.split("copilot.jsonl:", 1)[1]: r for r in reader.read_new()}
    # the places count the object lines before (the one whose attributes carry nothing too)
    assert sorted(by_key) == [f"log:s1:{at * 1000}:1", f"log:s2:{at * 1000}:2", "t1:c1"]
    assert reader.malformed_lines == 1 and "line 4" in reader.first_malformed
    assert by_key[f"log:s2:{at * 1000}:2"].input_tokens == 12
    assert by_key["t1:c1"].input_tokens == 1000 and by_key["t1:c1"].cache_read_tokens == 500


def test_the_usual_forms_read_at_once_keep_the_rules_for_the_others(tmp_path: Path) -> None:
    """A first scan reads the usual forms (a ``[s, ns]`` time of whole numbers, a name as text,
    a count above 0) without the general rules; the other forms still follow them: a time
    with a negative part is not a time (the next one is taken), one given as digits is; a
    trace or session of spaces only is not one (the span context's, the next kind's are)."""
    otel = tmp_path / "otel"
    otel.mkdir()
    at = int(dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC).timestamp())
    usage = {**copilot_usage(100, 7), "gen_ai.usage.output_tokens": -3}
    lines = [
        {"traceId": "  ", "spanContext": {"traceId": "t1", "spanId": "s1"},
         "endTime": [at, -1], "startTime": [str(at), "500000000"],
         "attributes": {**usage, "gen_ai.conversation.id": "  ",
                        "github.copilot.interaction_id": "i1", "gen_ai.response.model": " ",
                        "gen_ai.request.model": "gpt-5", "gen_ai.operation.name": "chat"},
         "type": "span", "name": "chat gpt-5"},
        {"hrTime": [at + 60, 250_000_000], "spanContext": {"traceId": "t2", "spanId": "s2"},
         "attributes": {**copilot_usage(200, 9), "session.id": " s9 ",
                        "event.name": "gen_ai.client.inference.operation.details"}},
    ]  # fmt: skip
    (otel / "copilot.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    reader = CopilotReader(otel, None, build_price_table(), lambda: LONG_AGO_NS * 2)
    found = {r.key.split("copilot.jsonl:", 1)[1]: r for r in reader.read_new()}
    assert sorted(found) == ["log:t2:s2", "t1:s1"]
    span, log = found["t1:s1"], found["log:t2:s2"]
    assert (span.ts_ns, span.session, span.model) == ((at * 1000 + 500) * 10**6, "i1", "gpt-5")
    assert (span.input_tokens, span.output_tokens) == (100, 0)
    assert (log.ts_ns, log.session, log.model) == ((at + 60) * 10**9 + 250 * 10**6, "s9", "unknown")
    assert (log.input_tokens, log.output_tokens) == (200, 9)
