"""The municipality's paying account (issue 7): only its coordinators set it; the IBAN and the BIC are
checked (a Latvian bank's BIC is filled in from the IBAN, the BIC's country must be the IBAN's), the
registration number has 11 digits, errors land next to their fields, and the audit trail keeps the IBAN
masked."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.core.audit import AuditEvent
from portal.core.enums import Role
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db as _db
from portal.payments import accounts
from portal.payments.models import PayingAccount
from tests import factories
from tests.helpers import Page, csrf_token

IBAN = "LV62HABA0551234567890"
NAME = "Aizkraukles novada pašvaldība"


def _save(muni, actor, **changes):
    values = {"name": NAME, "iban": IBAN, "bic": "", "reg_number": "90000059438", **changes}
    return accounts.save_paying_account(muni.id, actor=actor, **values)


def _events():
    return list(
        _db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "paying_account.saved").order_by(AuditEvent.id)
        )
    )


def test_a_coordinator_saves_the_account_the_bic_is_suggested_and_the_audit_masks_the_iban(db):
    muni = factories.municipality()
    coordinator = factories.coordinator(muni)
    account = _save(muni, coordinator, iban="lv62 haba 0551 2345 6789 0", reg_number="9000 0059 438")
    assert accounts.paying_account(muni.id) is account
    assert (account.iban, account.bic, account.reg_number) == (IBAN, "HABALV22", "90000059438")
    assert account.name == NAME and account.updated_by_id == coordinator.id
    _save(muni, coordinator, bic="trellv22", reg_number="")
    assert account.bic == "TRELLV22" and account.reg_number is None
    _save(muni, coordinator, bic="TRELLV22", reg_number="")  # nothing changed: nothing to audit
    first, second = _events()
    assert first.before is None
    trail = json.dumps([first.before, first.after, second.before, second.after], ensure_ascii=False)
    assert IBAN not in trail and "0551234567890" not in trail
    assert "LV62HABA…7890" in trail
    assert first.municipality_id == muni.id and first.actor_id == coordinator.id
    assert "TRELLV22" in json.dumps(second.after) and "HABALV22" in json.dumps(second.before)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"iban": "LV62HABA0551234567891"}, "iban", "check digits"),
        ({"iban": "DE89370400440532013000"}, "iban", "Latvian"),
        ({"bic": "HABA"}, "bic", "not a valid BIC"),
        ({"bic": "DEUTDEFF"}, "bic", "DE"),
        ({"iban": "LV80BANK0000435195001", "bic": ""}, "bic", "Enter the BIC"),
        ({"reg_number": "12345"}, "reg_number", "11 digits"),
        ({"name": "   "}, "name", "Enter the name"),
    ],
)
def test_a_bad_value_is_refused_next_to_its_field(db, changes, field, words):
    muni = factories.municipality()
    with force_locale("en"), pytest.raises(WorkflowError) as refused:
        _save(muni, factories.coordinator(muni), **changes)
    assert refused.value.field == field
    assert words in str(refused.value.message)
    assert accounts.paying_account(muni.id) is None and _events() == []


def test_only_the_municipalitys_coordinators_set_it(db):
    muni, other = factories.municipality(), factories.municipality("0044000")
    for actor in (factories.coordinator(other), factories.applicant(), factories.evaluator(muni), None):
        with pytest.raises(TransitionDenied):
            _save(muni, actor)
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(PayingAccount)) == 0


def test_the_page_shows_errors_by_the_fields_keeps_the_input_and_saves(client, login_as):
    muni = factories.municipality()
    coordinator = factories.coordinator(muni)
    login_as(coordinator)
    path = f"/payments/account?municipality={muni.id}"
    assert client.get(path).status_code == 200
    typed = {"name": "Ūdens pašvaldība", "iban": "LV62HABA0551234567891", "bic": "", "reg_number": "123"}
    response = client.post(path, data={**typed, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    assert page.by_id("iban").get("aria-invalid") == "true"
    assert page.by_id("iban").get("value") == typed["iban"]
    assert page.by_id("name").get("value") == typed["name"]
    assert "check digits" in page.by_id("iban-error").text
    assert page.by_id("reg_number-error") is None  # the first refusal only
    assert accounts.paying_account(muni.id) is None
    good = {**typed, "iban": IBAN, "reg_number": "90000059438"}
    response = client.post(path, data={**good, "csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/payments/orders?municipality={muni.id}")
    _db.session.expire_all()
    saved = accounts.paying_account(muni.id)
    assert (saved.name, saved.iban, saved.bic) == ("Ūdens pašvaldība", IBAN, "HABALV22")
    page = Page(client.get(path).get_data(as_text=True))
    assert page.by_id("iban").get("value") == IBAN


def test_a_coordinator_of_several_municipalities_chooses_one_of_theirs(client, login_as):
    muni, other = factories.municipality(), factories.municipality("0044000")
    coordinator = factories.coordinator(muni)
    factories.membership(coordinator, Role.COORDINATOR, municipality=other)
    login_as(coordinator)
    html = client.get("/payments/account").get_data(as_text=True)
    assert f"/payments/account?municipality={other.id}" in html
    assert f"/payments/account?municipality={muni.id}" in html
    assert client.get(f"/payments/account?municipality={other.id}").status_code == 200
    assert client.get("/payments/account?municipality=abc").status_code == 404
    assert client.get("/payments/account?municipality=999999").status_code == 404
