from __future__ import annotations

import json
import os
import threading
from importlib import resources
from pathlib import Path

import pytest

from burntray.model.pricing import (
    SNAPSHOT_AS_OF,
    SNAPSHOT_FILE,
    PriceFileError,
    _snapshot_bytes,
    build_price_table,
    load_litellm_prices,
    normalise_model,
    parse_litellm_prices,
    snapshot_prices,
)
from burntray.record import replace


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("anthropic/claude-sonnet-4.5", "claude-sonnet-4-5"),
        ("claude-3-5-haiku-20241022", "claude-3-5-haiku"),
        ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
        ("mistral-large-latest", "mistral-large"),
        ("GPT-4o", "gpt-4o"),
        ("deepseek/deepseek-chat:free", "deepseek-chat"),
        ("gemini-2.5-pro", "gemini-2.5-pro"),
    ],
)
def test_normalise_model(raw: str, key: str) -> None:
    assert normalise_model(raw) == key


def test_lookup_table_local_and_unpriced() -> None:
    table = build_price_table()
    price = table.lookup("openrouter", "anthropic/claude-sonnet-4.5")
    assert price is not None and (price.input, price.output) == (3.0, 15.0)
    assert table.lookup("ollama", "kimi-k2.6") is not None
    assert table.lookup("ollama", "kimi-k2.6").cost(1e6, 1e6) == 0.0  # type: ignore[union-attr]
    assert table.lookup("openai", "gpt-4o-mini-search-preview").key == "gpt-4o-mini"  # type: ignore[union-attr]
    assert table.lookup("acme", "mystery-model-9") is None
    assert table.lookup("openrouter", "deepseek/deepseek-chat:free").cost(1e6, 1e6) == 0.0  # type: ignore[union-attr]


def test_overrides_beat_litellm_beat_table(tmp_path: Path) -> None:
    litellm = tmp_path / "prices.json"
    litellm.write_text(
        json.dumps(
            {
                "sample_spec": {"input_cost_per_token": "skip me"},
                "gpt-4.1": {
                    "input_cost_per_token": 1e-6,
                    "output_cost_per_token": 2e-6,
                    "litellm_provider": "openai",
                },
                "acme-1": {"input_cost_per_token": 5e-6, "output_cost_per_token": 6e-6},
                "dall-e": {"output_cost_per_image": 0.04},
            }
        )
    )
    table = build_price_table({"acme-1": {"input": 9.0, "output": 9.5}}, litellm)
    assert table.lookup("openai", "gpt-4.1").input == pytest.approx(1.0)  # type: ignore[union-attr]
    assert table.lookup("openai", "gpt-4.1").origin == "litellm"  # type: ignore[union-attr]
    acme = table.lookup("acme", "acme-1")
    assert acme is not None and (acme.input, acme.origin) == (9.0, "override")
    assert table.lookup("openai", "gpt-4o").origin == "snapshot"  # type: ignore[union-attr]
    assert table.lookup("mistral", "codestral").origin == "table"  # type: ignore[union-attr]
    assert table.lookup("x", "dall-e") is None
    assert table.sources == (
        "bundled table",
        f"LiteLLM snapshot {SNAPSHOT_AS_OF}",
        f"LiteLLM file {litellm}",
        "config overrides",
    )


def test_bad_litellm_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "prices.json"
    bad.write_text("{not json")
    with pytest.raises(PriceFileError, match=r"prices\.json: not valid JSON"):
        load_litellm_prices(bad)
    with pytest.raises(PriceFileError, match=r"missing\.json: does not exist"):
        load_litellm_prices(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "does not exist"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"sample_spec": {"mode": "chat"}}', "no usable prices"),
        ("[" * 100_000, "not valid JSON"),
    ],
)
def test_unusable_litellm_file_leaves_the_rest_of_the_table_in_force(
    tmp_path: Path, content: str | None, reason: str
) -> None:
    path = tmp_path / "prices.json"
    if content is not None:
        path.write_text(content)
    table = build_price_table({"acme-1": {"input": 9.0, "output": 9.5}}, path)
    assert table.problem.startswith(f"pricing.litellm_file: {path}: ")
    assert reason in table.problem
    assert table.problem.endswith("using the built-in prices instead")
    assert table.sources == (
        "bundled table",
        f"LiteLLM snapshot {SNAPSHOT_AS_OF}",
        "config overrides",
    )
    bundled = table.lookup("openai", "gpt-4.1")
    assert bundled is not None and bundled.origin == "snapshot"  # the shipped LiteLLM snapshot
    override = table.lookup("acme", "acme-1")
    assert override is not None and override.input == 9.0


@pytest.mark.skipif(os.name == "nt", reason="FIFOs and /dev/zero are POSIX")
def test_litellm_file_that_is_a_fifo_or_dev_zero_neither_hangs_nor_fills_memory(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)  # no writer: a plain open() would block forever
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")  # a plain read() would never end
    problems: list[str] = []
    # in a daemon thread, so a regression fails the test instead of hanging the suite
    worker = threading.Thread(
        target=lambda: problems.extend(build_price_table(None, p).problem for p in (fifo, link)),
        daemon=True,
    )
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "reading the price file hung"
    assert f"{fifo}: is a FIFO (named pipe), not a regular file" in problems[0]
    assert f"{link}: is a character device, not a regular file" in problems[1]


def test_good_litellm_file_has_no_problem(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text('{"acme-1": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}}')
    table = build_price_table(None, path)
    assert table.problem == ""
    assert table.sources == (
        "bundled table",
        f"LiteLLM snapshot {SNAPSHOT_AS_OF}",
        f"LiteLLM file {path}",
    )


def test_litellm_file_over_the_cap_is_refused_unread(tmp_path: Path) -> None:
    from burntray.model.pricing import MAX_PRICE_FILE_BYTES

    huge = tmp_path / "prices.json"
    with huge.open("wb") as fh:
        fh.truncate(MAX_PRICE_FILE_BYTES + 1)  # sparse: costs no disk, would cost memory
    table = build_price_table(None, huge)
    assert f"is {MAX_PRICE_FILE_BYTES + 1:,} bytes, over the" in table.problem


def test_an_old_price_table_is_pointed_out_by_doctor_and_the_report(
    isolated_env: object, hexai_dir: object, capsys: pytest.CaptureFixture[str]
) -> None:
    import datetime as dt

    from burntray.app import AppContext
    from burntray.doctor import run_doctor
    from burntray.model.price_table import PRICES_AS_OF, price_table_age
    from burntray.report.data import collect
    from burntray.report.html import render_html

    checked = dt.datetime.fromisoformat(PRICES_AS_OF).replace(tzinfo=dt.UTC)

    def at(days: int) -> int:
        return int((checked + dt.timedelta(days=days)).timestamp()) * 10**9

    assert price_table_age(at(150)) == ""
    assert price_table_age(at(200)).startswith(
        f"the bundled price table was checked {PRICES_AS_OF}, 6 months ago: prices may"
    )
    for days, old in ((150, False), (400, True)):
        ctx = replace(AppContext.load(), clock_ns=lambda days=days: at(days))
        run_doctor(ctx)
        doctor = capsys.readouterr().out
        assert f"[prices]\n  bundled      checked {PRICES_AS_OF}" in doctor
        assert ("OLD: the bundled price table was checked" in doctor) is old
        ctx = replace(AppContext.load(), clock_ns=lambda days=days: at(days))
        page = render_html(collect(ctx, ctx.settings), dt.UTC)
        assert ("Note: the bundled price table was checked" in page) is old
        ctx.close()


def test_shipped_snapshot_read_directly_is_the_package_resource() -> None:
    """The snapshot is read beside the modules (no importlib.resources on every start): the same
    bytes the package resource gives, every price parsed from them and marked as the snapshot."""
    shipped = resources.files("burntray.data").joinpath(SNAPSHOT_FILE).read_bytes()
    assert _snapshot_bytes() == shipped
    prices = snapshot_prices()
    expected = parse_litellm_prices(json.loads(shipped))
    assert prices.keys() == expected.keys() and len(prices) > 100
    for key, price in prices.items():
        assert price.origin == "snapshot"
        assert price == replace(expected[key], origin="snapshot")
