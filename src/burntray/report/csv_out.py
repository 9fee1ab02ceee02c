"""The report as CSV: one line per provider/model, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import datetime as _dt
import io

from burntray.model.aggregate import rpm
from burntray.model.format import window_text
from burntray.model.timefmt import format_rfc3339_ns
from burntray.report.data import ReportData

CSV_COLUMNS = (
    "source",
    "window",
    "as_of",
    "provider",
    "model",
    "reqs",
    "rpm",
    "sent_bytes",
    "recv_bytes",
    "tokens",
    "tokens_estimated",
    "cost_usd",
    "cost_estimated",
    "unpriced_reqs",
    "price_key",
)
# Spreadsheets run cells starting with these as formulas; such text cells get a leading "'".
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def render_csv(data: ReportData) -> str:
    """One line per provider/model, most expensive first (columns: ``CSV_COLUMNS``)."""
    snap = data.snapshot
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    window = window_text(snap)
    as_of = format_rfc3339_ns(snap.as_of_ns, _dt.UTC)
    for row in snap.by_model:
        writer.writerow(
            [
                snap.source,
                window,
                as_of,
                _csv_text(row.provider),
                _csv_text(row.model),
                row.reqs,
                f"{rpm(row.reqs, snap.window_ns):.6f}",
                row.sent,
                row.recv,
                row.tokens,
                str(row.tokens_estimated).lower(),
                "" if row.cost_usd is None else f"{row.cost_usd:.6f}",
                str(snap.cost_estimated).lower(),
                row.unpriced_reqs,
                row.price_key,
            ]
        )
    return buffer.getvalue()
