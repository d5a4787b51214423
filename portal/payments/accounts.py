"""The municipality's paying account (issue 7): the account payments are made from, the debtor of every
payment order (portal.payments.orders). Its coordinators set it; the IBAN and the BIC are checked, the
BIC of a Latvian bank is filled in from the IBAN when left empty, and every change is audited with the
IBAN masked. Callers commit.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from stdnum import bic as std_bic
from stdnum.exceptions import ValidationError

from portal.core import audit
from portal.core.enums import Role
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db
from portal.organisations.validators import validate_iban
from portal.payments.models import PayingAccount
from portal.payments.orders import bic_for_iban

NAME_MAX = 140  # PayingAccount.name
REG_NUMBER_LENGTH = 11


def paying_account(municipality_id: int) -> PayingAccount | None:
    """The municipality's paying account, or None when it is not set yet."""
    return db.session.get(PayingAccount, municipality_id)


def masked_iban(iban: str | None) -> str | None:
    """The country, bank and last four characters, as the audit trail keeps an IBAN (cf.
    Organisation.masked_iban)."""
    if not iban:
        return None
    return f"{iban[:8]}…{iban[-4:]}"


def _snapshot(account: PayingAccount | None) -> dict | None:
    if account is None:
        return None
    return {
        "name": account.name,
        "iban": masked_iban(account.iban),
        "bic": account.bic,
        "reg_number": account.reg_number,
    }


def _clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise WorkflowError(_l("Enter the name of the account holder (the municipality)."), field="name")
    if len(name) > NAME_MAX:
        raise WorkflowError(
            _l("The name can have at most %(max)d characters.", max=NAME_MAX),
            field="name",
        )
    return name


def _clean_iban(iban: str | None) -> str:
    try:
        return validate_iban(iban)
    except ValueError as exc:
        raise WorkflowError(str(exc), field="iban") from None


def _clean_bic(bic: str | None, iban: str) -> str:
    value = std_bic.compact(bic or "")
    if not value:
        suggested = bic_for_iban(iban)
        if suggested is None:
            raise WorkflowError(
                _l("Enter the BIC (SWIFT code) of the bank, for example HABALV22."), field="bic"
            )
        return suggested
    try:
        value = std_bic.validate(value)
    except ValidationError:
        raise WorkflowError(
            _l("This is not a valid BIC: it has 8 or 11 letters and digits, for example HABALV22."),
            field="bic",
        ) from None
    if value[4:6] != iban[:2]:
        raise WorkflowError(
            _l(
                "The BIC is of a bank in %(bic_country)s, but the account (IBAN) is in %(iban_country)s: "
                "check both.",
                bic_country=value[4:6],
                iban_country=iban[:2],
            ),
            field="bic",
        )
    return value


def _clean_reg_number(reg_number: str | None) -> str | None:
    value = "".join((reg_number or "").split())
    if not value:
        return None
    if not value.isdigit() or len(value) != REG_NUMBER_LENGTH:
        raise WorkflowError(
            _l("The registration number has 11 digits, for example 90000059438."), field="reg_number"
        )
    return value


def save_paying_account(
    municipality_id: int, *, name: str, iban: str, bic: str | None, reg_number: str | None, actor
) -> PayingAccount:
    """Create or change the municipality's paying account; only its coordinators may."""
    if actor is None or not actor.has_role(Role.COORDINATOR, municipality_id=municipality_id):
        raise TransitionDenied("paying account: only the municipality's coordinators set it")
    values = {
        "name": _clean_name(name),
        "iban": _clean_iban(iban),
    }
    values["bic"] = _clean_bic(bic, values["iban"])
    values["reg_number"] = _clean_reg_number(reg_number)

    account = paying_account(municipality_id)
    before = _snapshot(account)
    if account is None:
        account = PayingAccount(municipality_id=municipality_id)
        db.session.add(account)
    for key, value in values.items():
        setattr(account, key, value)
    account.updated_by_id = actor.id
    after = _snapshot(account)
    db.session.flush()
    if before != after:
        audit.record(
            "paying_account.saved",
            actor=actor,
            object_type=PayingAccount.__tablename__,
            object_id=municipality_id,
            municipality_id=municipality_id,
            before=before,
            after=after,
        )
    return account
