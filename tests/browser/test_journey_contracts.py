"""Issue 7 in the browser: the coordinator creates and sends the contract, the representative uploads the
signed file, the coordinator confirms the counter-signature and approves the advance.

Latvian on a 360 px phone, English on a 1280 px desktop. A decided call with one funded application is
made directly in the live server's database (`factories.decided_call`).

- The coordinator goes from the main menu's "Contracts" to the project's contract page, creates the
  contract (a real wkhtmltopdf rendering), sees its number JIP/… and the status "Draft", first sends it
  with 0 working days (the error is shown next to the field), then with 10; the status reads "Sent for
  signature" and the organisation's representative gets the e-mail with the contract attached.
- The representative goes from "My applications" to the application, follows "Open the contract",
  downloads the PDF (its text has the number), uploads a signed PDF and sees its SHA-256.
- The coordinator confirms the counter-signature (the status reads "Signed") and approves the advance in
  the payments section: it reads "Approved", with 80 % of the call's amount in the page's language.

Every page seen passes `check_page` (<html lang>, no sideways scrolling, the axe gate), error states too.

The coordinator logs in twice within a minute, and a TOTP code is never accepted twice (the last used
time step is stored): the first login gives the code of the previous time step (still accepted), the
second the current one, so the journey never waits for the next 30 s step.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit

import pyotp
import pytest
from pypdf import PdfReader

from tests.browser.support import check_page

pytestmark = pytest.mark.browser

NUMBER = re.compile(r"^JIP/\d{7}/\d{4}/\d+$")


@dataclass(frozen=True)
class Person:
    email: str
    password: str
    totp_secret: str | None = None


@dataclass(frozen=True)
class Seed:
    call_id: int
    call_title: str
    application_id: int
    application_title: str
    coordinator: Person
    representative: Person
    labels: dict[str, str]  # contract and payment statuses in the page's language
    advance: str  # the advance, formatted for the page's language
    advance_value: Decimal


def _plain(text: str) -> str:
    """The no-break and narrow spaces of Latvian numbers and dates as plain spaces."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _seed(live_server, language: str) -> Seed:
    """A decided call (one funded application, one not) in the live server's database; the coordinator
    with their own TOTP secret, the representative (no second factor) with a mailbox of their own."""
    from flask_babel import force_locale

    from portal.contracts.models import ContractStatus
    from portal.core.i18n import money
    from portal.extensions import db
    from portal.payments.models import PaymentStatus
    from tests import factories

    tag = uuid.uuid4().hex[:8]
    app = live_server.app
    with app.app_context():
        ev = factories.decided_call(2, funded=1)
        call, application = ev["call"], ev["applications"][0]
        call.title = f"Jauniešu iniciatīvas Aizkrauklē {tag}"
        application.title = f"Ūdens pārgājiens ar skolēniem {tag}"
        for version in application.versions:
            version.data = {**version.data, "title": application.title}
        coordinator = Person(f"koordinators.{tag}@example.lv", factories.PASSWORD, pyotp.random_base32())
        representative = Person(f"parstavis.{tag}@example.lv", factories.PASSWORD)
        user = ev["coordinator"]
        user.email, user.full_name, user.locale = coordinator.email, "Pēteris Kalniņš", language
        user.totp_secret, user.totp_last_step = coordinator.totp_secret, None
        user = ev["applicants"][0]
        user.email, user.full_name, user.locale = representative.email, "Līga Zariņa", language
        advance_percent = call.programme.advance_percent
        assert advance_percent == Decimal("80"), advance_percent
        advance = (call.amount * Decimal("0.8")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        with app.test_request_context(), force_locale(language):
            labels = {s.value: str(s.label) for s in ContractStatus}
            labels.update({f"payment_{s.value}": str(s.label) for s in PaymentStatus})
            formatted = _plain(money(advance))
        seed = Seed(
            call_id=call.id,
            call_title=call.title,
            application_id=application.id,
            application_title=application.title,
            coordinator=coordinator,
            representative=representative,
            labels=labels,
            advance=formatted,
            advance_value=advance,
        )
        db.session.commit()
        db.session.remove()
    return seed


def _contract(live_server, application_id: int) -> dict | None:
    """The application's contract and advance, as stored in the live server's database."""
    from portal.applications.models import Application
    from portal.contracts.services import contract_of
    from portal.extensions import db
    from portal.payments.services import payments_of

    with live_server.app.app_context():
        try:
            contract = contract_of(db.session.get(Application, application_id))
            if contract is None:
                return None
            advance = payments_of(contract).get("advance")
            return {
                "id": contract.id,
                "number": contract.number,
                "status": str(contract.status),
                "application_status": str(contract.application.status),
                "pdf_sha256": contract.pdf_sha256,
                "applicant_sha256": contract.applicant_sha256,
                "advance_status": str(advance.status) if advance else None,
                "advance_amount": advance.amount if advance else None,
                "advance_id": advance.id if advance else None,
            }
        finally:
            db.session.remove()


# --- browser helpers --------------------------------------------------------------------------------


def _path(page) -> str:
    return urlsplit(page.url).path


def _text(page, selector: str = "main") -> str:
    return _plain(page.locator(selector).inner_text())


def _follow(page, link) -> None:
    with page.expect_navigation():
        link.click()


def _press(page, button) -> None:
    with page.expect_navigation():
        button.click()


def _check(page, language: str, label: str) -> None:
    """`check_page`, and the page is in the person's language."""
    lang = page.locator("html").get_attribute("lang")
    assert lang == language, f"{label}: in {lang!r}, not {language!r}: {page.url}"
    check_page(page, label)


def _flash(page, category: str = "success") -> str:
    flash = page.locator(f".flashes .flash-{category}")
    assert flash.count() >= 1, f"no {category} message on {page.url}: {_text(page)[:800]}"
    return _plain(flash.first.inner_text())


def _log_in(page, person: Person, *, previous_step: bool = False) -> None:
    """The login form, then (for staff) the second step with a TOTP code: of the previous 30 s step
    when `previous_step` (still accepted), else of the current one."""
    page.goto("/account/login")
    page.fill("[name=email]", person.email)
    page.fill("[name=password]", person.password)
    _press(page, page.locator("main form button[type=submit]").last)
    if person.totp_secret:
        assert _path(page) == "/account/login/totp", f"no second step: {page.url}"
        totp = pyotp.TOTP(person.totp_secret)
        code = totp.at(time.time() - 30) if previous_step else totp.now()
        page.fill("[name=code]", code)
        _press(page, page.locator("main form[action='/account/login/totp'] button[type=submit]").last)
    assert not _path(page).startswith("/account/login"), f"still logging in: {page.url}: {_text(page)[:500]}"


def _log_out(page) -> None:
    _press(page, page.locator("header form[action='/account/logout'] button[type=submit]"))
    assert page.locator("header a[href='/account/login']").count() == 1


def _status(page) -> str:
    """The status of the contract's facts (the second <dd> of the first summary list)."""
    return _text(page, "main dl.summary-list >> nth=0 >> dd >> nth=1").strip()


def _wait_for_mail(mailbox, address: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = mailbox.to(address)
        if messages:
            return messages[-1]
        time.sleep(0.1)
    raise AssertionError(f"no e-mail to {address} arrived; got {[m['To'] for m in mailbox.messages]}")


def _pdf_text(data: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize(("device", "language"), [("phone", "lv"), ("desktop", "en")])
def test_create_send_sign_countersign_and_approve_the_advance(
    page, page_errors, live_server, mailbox, tmp_path, language
):
    seed = _seed(live_server, language)
    contract_page = f"/contracts/applications/{seed.application_id}"

    # --- The coordinator: from "Contracts" to the project, creates and sends the contract -------------
    _log_in(page, seed.coordinator, previous_step=True)
    _check(page, language, "coordinator logged in")
    _follow(page, page.locator("nav.main-nav a[href='/contracts/']"))
    assert _path(page) == "/contracts/", page.url
    _check(page, language, "contracts list")
    row = page.locator("main table tbody tr", has=page.locator("a", has_text=seed.application_title))
    assert row.count() == 1, _text(page)[:1500]
    assert page.locator(f"main h2#call-{seed.call_id}").inner_text().startswith(seed.call_title)
    _follow(page, row.locator(f"a[href='{contract_page}']"))
    assert _path(page) == contract_page, page.url
    assert seed.application_title in _text(page, "main .lead")
    _check(page, language, "contract page without a contract")

    _press(page, page.locator(f"main form[action='{contract_page}/create'] button[type=submit]"))
    assert _path(page) == contract_page, page.url
    stored = _contract(live_server, seed.application_id)
    assert stored is not None and stored["status"] == "draft", stored
    number = stored["number"]
    assert NUMBER.match(number), number
    assert number in _flash(page)
    assert number in _text(page, "main h1")
    assert _status(page) == seed.labels["draft"]
    assert stored["pdf_sha256"] and stored["pdf_sha256"] in _text(page), "the PDF's hash is shown"
    _check(page, language, "draft contract")

    # 0 working days: refused next to the field, nothing sent.
    send = f"main form[action='/contracts/{stored['id']}/send']"
    page.fill("#sign_days", "0")
    _press(page, page.locator(f"{send} button[type=submit]"))
    assert page.locator("#error-summary a[href='#sign_days']").count() == 1, _text(page)[:1500]
    assert page.locator("#sign_days").get_attribute("aria-invalid") == "true"
    error = page.locator("#sign_days-error")
    assert error.is_visible() and "30" in error.inner_text(), error.inner_text()
    assert page.locator("#sign_days").input_value() == "0", "the value given is kept"
    assert _contract(live_server, seed.application_id)["status"] == "draft"
    _check(page, language, "send refused: 0 days")

    page.fill("#sign_days", "10")
    _press(page, page.locator(f"{send} button[type=submit]"))
    assert _path(page) == contract_page, page.url
    _flash(page)
    stored = _contract(live_server, seed.application_id)
    assert stored["status"] == "sent" and stored["application_status"] == "contract_sent", stored
    assert _status(page) == seed.labels["sent"]
    assert page.locator("main h1 .badge-sent").count() == 1
    _check(page, language, "contract sent")
    _log_out(page)

    # The representative's e-mail: the number in the subject, the contract attached, a link to the page.
    message = _wait_for_mail(mailbox, seed.representative.email)
    assert number in str(message["Subject"]), message["Subject"]
    attached = [part.get_content() for part in message.iter_attachments()]
    assert len(attached) == 1 and attached[0].startswith(b"%PDF"), [a[:10] for a in attached]
    assert hashlib.sha256(attached[0]).hexdigest() == stored["pdf_sha256"], "the attachment is the contract"
    assert f"/applications/{seed.application_id}" in mailbox.text(message)

    # --- The representative: finds the contract, downloads it, uploads the signed file -----------------
    _log_in(page, seed.representative)
    _follow(page, page.locator("nav.main-nav a[href='/applications/']"))
    _check(page, language, "my applications")
    _follow(page, page.locator(f"main a[href='/applications/{seed.application_id}']"))
    assert number in _text(page, "main section[aria-labelledby=contract-title]")
    _check(page, language, "the application with its contract")
    _follow(page, page.locator(f"main section[aria-labelledby=contract-title] a[href='{contract_page}']"))
    assert _path(page) == contract_page, page.url
    assert _status(page) == seed.labels["sent"]
    assert page.locator("main form[action$='/send']").count() == 0, "no coordinator's forms"
    _check(page, language, "the representative's contract page")

    with page.expect_download() as download:
        page.locator(f"main a[href='/contracts/{stored['id']}/files/pdf']").click()
    data = download.value.path().read_bytes()
    assert data.startswith(b"%PDF"), data[:20]
    assert hashlib.sha256(data).hexdigest() == stored["pdf_sha256"]
    assert number in _pdf_text(data), "the rendered contract carries its number"

    signed = tmp_path / "parakstits-ligums.pdf"
    from tests.factories import sample_pdf

    signed.write_bytes(sample_pdf(b"signed by the representative " + uuid.uuid4().hex.encode()))
    signed_hash = hashlib.sha256(signed.read_bytes()).hexdigest()
    page.set_input_files("#file", str(signed))
    _press(page, page.locator(f"main form[action='/contracts/{stored['id']}/signed'] button[type=submit]"))
    assert _path(page) == contract_page, f"not uploaded: {_text(page)[:1500]}"
    assert signed_hash in _flash(page), "the message gives the file's SHA-256"
    assert signed_hash in _text(page, "main table:has(#files-caption)")
    stored = _contract(live_server, seed.application_id)
    assert stored["status"] == "signed_by_applicant" and stored["applicant_sha256"] == signed_hash, stored
    assert _status(page) == seed.labels["signed_by_applicant"]
    _check(page, language, "signed file uploaded")
    _log_out(page)

    # --- The coordinator: confirms the counter-signature, approves the advance -------------------------
    _log_in(page, seed.coordinator)
    page.goto(contract_page)
    assert _status(page) == seed.labels["signed_by_applicant"]
    _check(page, language, "waiting for the counter-signature")
    countersign = f"main form[action='/contracts/{stored['id']}/countersign']"
    _press(page, page.locator(f"{countersign} button[type=submit]"))
    assert _path(page) == contract_page, page.url
    _flash(page)
    stored = _contract(live_server, seed.application_id)
    assert stored["status"] == "signed" and stored["application_status"] == "contract_signed", stored
    assert _status(page) == seed.labels["signed"]
    assert page.locator("main h1 .badge-signed").count() == 1
    _check(page, language, "contract signed")

    advance = page.locator("#contract-payment-advance")
    assert _plain(advance.locator("td").nth(0).inner_text()).strip() == seed.advance
    assert stored["advance_amount"] == seed.advance_value
    _press(page, advance.locator(f"form[action='/payments/{stored['advance_id']}/approve'] button"))
    assert _path(page) == contract_page, page.url
    assert number in _flash(page)
    advance = page.locator("#contract-payment-advance")
    cells = [_plain(c).strip() for c in advance.locator("td").all_inner_texts()]
    assert cells[0] == seed.advance, cells
    assert cells[1] == seed.labels["payment_approved"], cells
    assert cells[2] != "—", "the approval date is shown"
    assert advance.locator("form[action$='/approve']").count() == 0
    assert _contract(live_server, seed.application_id)["advance_status"] == "approved"
    _check(page, language, "advance approved")
