from __future__ import annotations

import json
import os
import threading
from importlib import resources
from pathlib import Path

import pytest
from msgspec.structs import replace

from burntray.model.price_table import PRICES_AS_OF, PRICES_FILE
from burntray.model.pricing import (
    PriceFileError,
    PriceTable,
    _shipped_bytes,
    build_price_table,
    load_litellm_prices,
    normalise_model,
    parse_litellm_prices,
    shipped_prices,
)


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
    assert table.lookup("openai", "gpt-4o").origin == "table"  # type: ignore[union-attr]
    assert table.lookup("mistral", "codestral").origin == "table"  # type: ignore[union-attr]
    assert table.lookup("x", "dall-e") is None
    assert table.sources == (
        "bundled table",
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
    assert table.sources == ("bundled table", "config overrides")
    bundled = table.lookup("openai", "gpt-4.1")
    assert bundled is not None and bundled.origin == "table"  # the shipped price file
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
    assert table.sources == ("bundled table", f"LiteLLM file {path}")


def test_litellm_file_over_the_cap_is_refused_unread(tmp_path: Path) -> None:
    from burntray.model.pricing import MAX_PRICE_FILE_BYTES

    huge = tmp_path / "prices.json"
    with huge.open("wb") as fh:
        fh.truncate(MAX_PRICE_FILE_BYTES + 1)  # sparse: costs no disk, would cost memory
    table = build_price_table(None, huge)
    assert f"is {MAX_PRICE_FILE_BYTES + 1:,} bytes, over the" in table.problem


def _days_after_the_file(days: int) -> int:
    import datetime as dt

    dated = dt.datetime.fromisoformat(PRICES_AS_OF).replace(tzinfo=dt.UTC)
    return int((dated + dt.timedelta(days=days)).timestamp()) * 10**9


@pytest.mark.parametrize(("days", "old"), [(0, False), (120, False), (121, True), (400, True)])
def test_doctor_and_the_report_show_the_shipped_file_date_and_warn_only_when_it_is_old(
    isolated_env: object,
    hexai_dir: object,
    capsys: pytest.CaptureFixture[str],
    days: int,
    old: bool,
) -> None:
    """A fresh install (the file's own date, up to 120 days on) gets the one date and no OLD;
    later, doctor and the report say how old the file is and how to refresh the prices."""
    import datetime as dt

    from burntray.app import AppContext
    from burntray.doctor import run_doctor
    from burntray.report.data import collect
    from burntray.report.html import render_html

    ctx = replace(AppContext.load(), clock_ns=lambda: _days_after_the_file(days))
    run_doctor(ctx)
    doctor = capsys.readouterr().out
    assert f"[prices]\n  shipped      {PRICES_FILE}, prices as of {PRICES_AS_OF}\n" in doctor
    assert ("OLD" in doctor) is old
    warning = (
        f"the shipped price file is dated {PRICES_AS_OF}, {days} days ago: prices may have "
        "changed since; refresh them with a current LiteLLM price file (litellm_file under "
        "[pricing] in config.toml"
    )
    assert (f"  OLD: {warning}" in doctor) is old
    ctx = replace(AppContext.load(), clock_ns=lambda: _days_after_the_file(days))
    page = render_html(collect(ctx, ctx.settings), dt.UTC)
    assert f"Prices as of {PRICES_AS_OF}; prices from: bundled table" in page
    assert (f"Note: {warning}" in page) is old
    ctx.close()


def test_a_price_file_of_the_users_own_is_named_by_doctor_and_ends_the_old_warning(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refreshing the prices as the warning says silences it; the shipped date is still shown
    (it prices what the user's file lacks)."""
    from burntray.app import AppContext
    from burntray.doctor import run_doctor

    mine = isolated_env / "prices.json"
    mine.write_text('{"acme-1": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}}')
    config = isolated_env / "burntray" / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[pricing]\nlitellm_file = "{mine}"\n')
    ctx = replace(AppContext.load(), clock_ns=lambda: _days_after_the_file(400))
    assert ctx.paths.config_file == config
    run_doctor(ctx)
    doctor = capsys.readouterr().out
    assert (
        f"[prices]\n  shipped      {PRICES_FILE}, prices as of {PRICES_AS_OF}\n"
        f"  in force     LiteLLM file {mine}\n"
    ) in doctor
    assert "OLD" not in doctor
    assert ctx.prices().lookup("acme", "acme-1").origin == "litellm"  # type: ignore[union-attr]


def test_status_json_pricing_as_of_is_the_shipped_file_date(hexai_dir: Path) -> None:
    """The one date: the JSON's ``pricing.as_of`` is the shipped file's own ``_about.as_of``."""
    from burntray.sources.hexai.writer import hexai_update
    from tests.processes import burntray

    hexai_update(hexai_dir, "openai", "gpt-4.1", 4000, 400)
    done = burntray("status", "--source", "hexai", "--format", "json")
    assert done.returncode == 0, done.stderr
    pricing = json.loads(done.stdout)["pricing"]
    about = json.loads(_shipped_bytes())["_about"]
    assert pricing == {"as_of": about["as_of"], "sources": ["bundled table"]}
    assert about["as_of"] == PRICES_AS_OF and f"prices-{PRICES_AS_OF}.json" == PRICES_FILE


def test_shipped_file_read_directly_is_the_package_resource() -> None:
    """The price file is read beside the modules (no importlib.resources on every start): the
    same bytes the package resource gives, every price parsed from them and marked as shipped."""
    shipped = resources.files("burntray.data").joinpath(PRICES_FILE).read_bytes()
    assert _shipped_bytes() == shipped
    prices = shipped_prices()
    expected = parse_litellm_prices(json.loads(shipped))
    assert prices.keys() == expected.keys() and len(prices) > 100
    for key, price in prices.items():
        assert price.origin == "table"
        assert price == replace(expected[key], origin="table")


def test_the_report_names_where_every_shipped_price_comes_from(hexai_dir: Path) -> None:
    """Claude and OpenAI rows came from the old snapshot, whose origin the report did not know
    ("no price known" beside a price); every shipped row is now the bundled table."""
    import datetime as dt

    from burntray.report.build import render
    from burntray.report.data import collect
    from burntray.report.html import render_html
    from tests.report_support import FIXED_EVENTS, fixed_context, read_html, write_events

    write_events(hexai_dir, FIXED_EVENTS)
    ctx = fixed_context()
    data = collect(ctx, ctx.settings)
    rows = read_html(render_html(data, dt.UTC)).tables["price-table"][1:]
    origins = {(row[1], row[3]) for row in rows}
    assert origins == {
        ("gpt-4.1", "bundled table"),
        ("claude-sonnet-4-5", "bundled table"),
        ("llama3", "local model ($0)"),
        ("unknown-model-x", "no price known"),
    }
    doc = json.loads(render(data, "json"))
    by_model = {o["model"]: o["origin"] for o in doc["report"]["price_origins"]}
    assert by_model == {
        "gpt-4.1": "table",
        "claude-sonnet-4-5": "table",
        "llama3": "local",
        "unknown-model-x": None,
    }
    assert doc["pricing"] == {"as_of": PRICES_AS_OF, "sources": ["bundled table"]}
    ctx.close()


def test_the_shipped_prices_are_made_only_as_they_are_asked_for() -> None:
    """The shipped file's table has the keys and prices a full parse gives, but a lookup makes
    only the Price it returns (a warm ``status`` prices a few models of the file's hundreds)."""
    full = parse_litellm_prices(json.loads(_shipped_bytes()), origin="table")
    shipped_prices.cache_clear()
    lazy = shipped_prices()
    assert list(lazy) == list(full) and len(lazy) == len(full) > 100
    assert (
        PriceTable(lazy).lookup("anthropic", "claude-sonnet-4-5-20250929")
        == full["claude-sonnet-4-5"]
    )
    assert len(lazy._made) == 1  # type: ignore[attr-defined]
    assert dict(lazy) == full
    # one Price per entry, shared by its keys, as the full parse shares it
    assert lazy["claude-sonnet-4-5"] is lazy["anthropic/claude-sonnet-4-5"]
