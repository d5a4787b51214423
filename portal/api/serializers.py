"""Turn what `portal.public.data` returns into the API's JSON objects and CSV rows.

Each function names every field it emits (never `dict(row)`), so a field added to data.py cannot reach
the public by accident; the OpenAPI schemas (`portal.api.openapi`) list the same fields with
`additionalProperties: false`, and the contract test fails if the two drift apart.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from flask import url_for

from portal.programmes.dashboard import spreadsheet_safe
from portal.public.data import CallSummary

CURRENCY = "EUR"


# --- values -------------------------------------------------------------------------------------------


def decimal2(value: Decimal | int | None) -> str | None:
    """A decimal as a string with exactly two decimals ("4600.00"), or None."""
    if value is None:
        return None
    return f"{Decimal(value).quantize(Decimal('0.01')):.2f}"


def iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- JSON objects -----------------------------------------------------------------------------------


def municipality(code: str, name: str) -> dict:
    return {"code": code, "name": name}


def project_item(row: dict, call_id: int, *, linked: bool = True) -> dict:
    """A project in a list (the register, or a call's funded and reserve lists). `linked` is False for a
    reserve project, which has no page in the register."""
    return {
        "id": row["id"],
        "title": row["title"],
        "organisation": row["organisation"],
        "municipality": municipality(row["municipality_code"], row["municipality"]),
        "call_id": call_id,
        "start_date": iso(row["start_date"]),
        "end_date": iso(row["end_date"]),
        "amount": decimal2(row["amount"]),
        "currency": CURRENCY,
        "average": decimal2(row["average"]),
        "rank": row["rank"],
        "status": str(row["status"]),
        "links": {
            "self": url_for("api.project", project_id=row["id"]) if linked else None,
            "call": url_for("api.call", call_id=call_id),
        },
    }


def _achieved(value: dict | None) -> dict | None:
    if value is None:
        return None
    return {
        "participants": value.get("participants"),
        "participants_risk": value.get("participants_risk"),
        "risk_share": decimal2(value.get("risk_share")),
        "results": value.get("results"),
    }


def project_detail(row: dict) -> dict:
    """One funded project (data.project)."""
    item = project_item(row, row["call_id"])
    item.update(
        {
            "call_title": row["call_title"],
            "programme": {"code": row["programme"].code},
            "goal": row["goal"],
            "results_planned": row["results_planned"],
            "participants_planned": row["participants_planned"],
            "participants_risk_planned": row["participants_risk_planned"],  # int, "<5" or None
            "risk_share_planned": decimal2(row["risk_share_planned"]),
            "achieved": _achieved(row["achieved"]),
        }
    )
    return item


def call_item(call, summary: CallSummary) -> dict:
    """A published call with the summary of its results."""
    return {
        "id": call.id,
        "title": call.title,
        "municipality": municipality(call.municipality.code, call.municipality.name),
        "programme": {"code": call.programme.code},
        "round": call.round.number,
        "amount": decimal2(call.amount),
        "currency": CURRENCY,
        "decision": {"number": summary.decision_number, "date": iso(summary.decision_date)},
        "received": summary.received,
        "funded": summary.funded,
        "reserve": summary.reserve,
        "not_funded": summary.not_funded,
        "rejected": summary.rejected,
        "withdrawn": summary.withdrawn,
        "links": {
            "self": url_for("api.call", call_id=call.id),
            "results": url_for("api.call_results", call_id=call.id),
        },
    }


def summary_of(results) -> CallSummary:
    """The summary of a call from its full results (data.call_results)."""
    return CallSummary(
        decision_number=results.decision.number,
        decision_date=results.decision.decided_on,
        received=results.received,
        funded=len(results.funded),
        reserve=len(results.reserve),
        not_funded=results.not_funded,
        rejected=results.rejected,
        withdrawn=results.withdrawn,
    )


def statistics_row(row: dict) -> dict:
    return {
        "municipality": municipality(row["municipality_code"], row["municipality"]),
        **statistics_totals(row),
    }


def statistics_totals(totals: dict) -> dict:
    return {
        "calls": totals["calls"],
        "applications": totals["applications"],
        "funded": totals["funded"],
        "amount": decimal2(totals["amount"]),
        "currency": CURRENCY,
        "participants_planned": totals["participants_planned"],
        "participants_risk_planned": totals["participants_risk_planned"],  # int or "<5"
        "risk_share_planned": decimal2(totals["risk_share_planned"]),
    }


# --- CSV rows ---------------------------------------------------------------------------------------
# Column names are the JSON field names (nested ones joined with "_"), so one documentation serves both.

PROJECT_COLUMNS = [
    "id",
    "title",
    "organisation",
    "municipality_code",
    "municipality",
    "call_id",
    "start_date",
    "end_date",
    "amount",
    "currency",
    "average",
    "rank",
    "status",
]
CALL_COLUMNS = [
    "id",
    "title",
    "municipality_code",
    "municipality",
    "programme_code",
    "round",
    "amount",
    "currency",
    "decision_number",
    "decision_date",
    "received",
    "funded",
    "reserve",
    "not_funded",
    "rejected",
    "withdrawn",
]
STATISTICS_COLUMNS = [
    "municipality_code",
    "municipality",
    "calls",
    "applications",
    "funded",
    "amount",
    "currency",
    "participants_planned",
    "participants_risk_planned",
    "risk_share_planned",
]
# The last line of statistics.csv holds the national totals under this code and name.
TOTALS_CODE, TOTALS_NAME = "LV", "Latvija"


def csv_bytes(columns: list[str], rows) -> bytes:
    """CSV as Latvian spreadsheets read it, the way portal.programmes.dashboard.to_csv writes it: UTF-8
    with a BOM, `;` between values, CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_decimal(value: str | None) -> str:
    return value.replace(".", ",") if value else ""


def _csv_text(value) -> str:
    return "" if value is None else spreadsheet_safe(str(value))


def _csv_plain(value) -> str:
    return "" if value is None else str(value)


def project_csv_row(item: dict) -> list[str]:
    return [
        _csv_plain(item["id"]),
        _csv_text(item["title"]),
        _csv_text(item["organisation"]),
        _csv_plain(item["municipality"]["code"]),
        _csv_text(item["municipality"]["name"]),
        _csv_plain(item["call_id"]),
        _csv_plain(item["start_date"]),
        _csv_plain(item["end_date"]),
        _csv_decimal(item["amount"]),
        item["currency"],
        _csv_decimal(item["average"]),
        _csv_plain(item["rank"]),
        item["status"],
    ]


def call_csv_row(item: dict) -> list[str]:
    return [
        _csv_plain(item["id"]),
        _csv_text(item["title"]),
        _csv_plain(item["municipality"]["code"]),
        _csv_text(item["municipality"]["name"]),
        _csv_text(item["programme"]["code"]),
        _csv_plain(item["round"]),
        _csv_decimal(item["amount"]),
        item["currency"],
        _csv_text(item["decision"]["number"]),
        _csv_plain(item["decision"]["date"]),
        *(
            _csv_plain(item[k])
            for k in ("received", "funded", "reserve", "not_funded", "rejected", "withdrawn")
        ),
    ]


def statistics_csv_row(code: str, name: str, values: dict) -> list[str]:
    return [
        _csv_plain(code),
        _csv_text(name),
        *(_csv_plain(values[k]) for k in ("calls", "applications", "funded")),
        _csv_decimal(values["amount"]),
        values["currency"],
        _csv_plain(values["participants_planned"]),
        _csv_plain(values["participants_risk_planned"]),
        _csv_decimal(values["risk_share_planned"]),
    ]
