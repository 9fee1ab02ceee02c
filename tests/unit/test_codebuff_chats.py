"""Codebuff's chat files read to the fields used: a chat of objects decoded straight to them,
any other chat decoded whole, both giving the same records; a count taken from the first of
its names that holds a count above 0, in Codebuff's order of names."""

from __future__ import annotations

import json
from pathlib import Path

from burntray.model.pricing import build_price_table
from burntray.sources.codebuff.reader import CodebuffReader

TS = "2026-11-20T09:00:00.000Z"
# several names of one count, the first of them holding no count: OpenAI's names win here, so
# the cached tokens inside the prompt are taken out of it; the total's rest is output
OPENAI = {"inputTokens": True, "input_tokens": -5, "promptTokens": 100, "outputTokens": 0,
          "completion_tokens": 7, "total": 200,
          "promptTokensDetails": {"cachedTokens": 30}}  # fmt: skip
# the counts the first place lacks are taken from metadata.codebuff.usage
SPLIT = {"model": "claude-sonnet-4-5", "usage": {"inputTokens": 5},
         "codebuff": {"usage": {"outputTokens": 9, "cacheReadInputTokens": 4}}}  # fmt: skip


def _messages() -> list[object]:
    return [
        {"variant": "user", "content": "go"},
        {"variant": "ai", "id": "m1", "timestamp": TS,
         "metadata": {"model": "openai/gpt-5", "usage": OPENAI}},
        {"role": "assistant", "id": "m2", "createdAt": TS, "metadata": SPLIT},
    ]  # fmt: skip


def _read(root: Path, messages: list[object]) -> list[tuple[str, int, int, int, int]]:
    chat = root / "projects" / "app" / "chats" / "2026-11-20T09-00-00.000Z"
    chat.mkdir(parents=True)
    (chat / "chat-messages.json").write_text(json.dumps(messages))
    reader = CodebuffReader([root / "projects"], build_price_table())
    records = reader.read_new()
    assert reader.malformed_lines == 0
    return sorted((r.key.rsplit(":", 1)[1], r.input_tokens, r.output_tokens,
                   r.cache_read_tokens, r.cache_write_tokens) for r in records)  # fmt: skip


def test_a_chat_of_objects_and_one_with_other_items_give_the_same_records(tmp_path: Path) -> None:
    expected = [("m1", 70, 100, 30, 0), ("m2", 5, 9, 4, 0)]
    assert _read(tmp_path / "objects", _messages()) == expected
    # an item that is no object: the chat is decoded whole, that item passed over
    assert _read(tmp_path / "other", ["a note", 5, *_messages(), None]) == expected
