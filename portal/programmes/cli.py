"""`flask quotas compute` (DESIGN §8): CSV in, CSV out, no database."""

from __future__ import annotations

import csv
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from portal.programmes.pupil_counts import parse_pupil_counts, static_resolver
from portal.programmes.quotas import QuotaError, compute_quotas, projects_from_budget

quotas_cli = AppGroup("quotas", help="Project quotas per municipality.")

DEFAULT_AMOUNT = "4600.00"


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _decimal(value: str, what: str) -> Decimal:
    try:
        number = Decimal(value.replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        _fail(f"{what} must be a number, not {value!r}.")
    if not number.is_finite():
        _fail(f"{what} must be a finite number.")
    return number


@quotas_cli.command("compute")
@click.option("--projects", "projects_text", help="Number of projects P in the round.")
@click.option("--budget", "budget_text", help="Budget B in euros; P = floor(B / amount).")
@click.option(
    "--amount", "amount_text", default=DEFAULT_AMOUNT, show_default=True, help="Amount per project in euros."
)
@click.option("--counts", "counts_path", required=True, help="CSV file: municipality,pupils.")
def compute_command(projects_text, budget_text, amount_text, counts_path):
    """Print each municipality's quota as CSV (municipality,pupils,quota,amount)."""
    if (projects_text is None) == (budget_text is None):
        _fail("give either --projects P or --budget B (with --amount A).")
    amount = _decimal(amount_text, "--amount")
    if projects_text is not None:
        try:
            projects = int(projects_text)
        except ValueError:
            _fail(f"--projects must be a whole number, not {projects_text!r}.")
        if projects < 0:
            _fail("--projects must not be negative.")
    else:
        try:
            projects = projects_from_budget(_decimal(budget_text, "--budget"), amount)
        except QuotaError as exc:
            _fail(str(exc))
    path = Path(counts_path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        _fail(f"cannot read {counts_path}: {exc.strerror or exc}.")
    parsed = parse_pupil_counts(data, static_resolver())
    if parsed.problems:
        with force_locale("en"):  # the command speaks English throughout, like its other messages
            _fail(f"{counts_path}: " + "; ".join(str(p) for p in parsed.problems))
    try:
        results = compute_quotas(projects, parsed.rows, amount)
    except QuotaError as exc:
        _fail(str(exc))
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["municipality", "pupils", "quota", "amount"])
    for r in results:
        out.writerow([r.code, r.pupils, r.quota, f"{r.amount:.2f}"])


programmes_cli = AppGroup("programmes", help="Programmes and their rules.")


@programmes_cli.command("seed")
def seed_command() -> None:
    """Create the PuMPuRS youth initiative programme with its default rules and criteria (idempotent)."""
    from portal.extensions import db
    from portal.programmes.services import ensure_pumpurs_programme

    programme = ensure_pumpurs_programme()
    db.session.commit()
    click.echo(f"{programme.code}: {programme.name_lv} ({len(programme.criteria)} criteria)")
