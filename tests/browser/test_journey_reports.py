"""Issue 8 in the browser: the final report from the applicant's form to the national administrator.

Latvian on a 360 px phone, English on a 1280 px desktop. A project in progress (signed contract, advance
paid: `factories.project_in_progress`) is made directly in the live server's database, with a national
administrator.

- The representative opens the report form (from the application page if it links to it, else by its
  address), starts the report and fills every section: 30 participants, 18/9/2 by grade (a wrong sum),
  6 at risk by category, the activities carried out, how young people led, a result, a publicity link,
  the lessons and the declaration. Submitting is refused with the message next to the grades and every
  typed value kept; with 18/9/3 the report is submitted.
- The coordinator opens "Final reports", the report, and returns it with a comment on the participants
  section. The representative sees the comment at that section, corrects the risk categories and
  submits the corrected report.
- The coordinator approves it in full (a real wkhtmltopdf rendering): the contract page then offers the
  final payment's approval; approved, it reads "Approved".
- The national administrator opens the national overview, the forwarded report, and acknowledges it:
  the project is closed.

Every page seen passes `check_page` (<html lang>, no sideways scrolling, the axe gate), error states too.
The coordinator logs in twice: the first time with the TOTP code of the previous 30 s step (still
accepted), the second with the current one (a code is never accepted twice), as in the contracts journey.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pyotp
import pytest

from tests.browser.test_journey_contracts import (
    Person,
    _check,
    _flash,
    _follow,
    _log_in,
    _log_out,
    _path,
    _plain,
    _press,
    _text,
)

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Seed:
    application_id: int
    application_title: str
    representative: Person
    coordinator: Person
    national_admin: Person
    payment_labels: dict[str, str]  # payment statuses in the page's language


def _seed(live_server, language: str) -> Seed:
    """A project in progress (contract signed, advance paid) and a national administrator, committed in
    the live server's database; the staff with TOTP secrets of their own."""
    from flask_babel import force_locale

    from portal.extensions import db
    from portal.payments.models import PaymentStatus
    from tests import factories

    tag = uuid.uuid4().hex[:8]
    app = live_server.app
    with app.app_context():
        contract, ev = factories.project_in_progress()
        application = contract.application
        application.title = f"Jauniešu podkāsts par mācībām {tag}"
        for version in application.versions:
            version.data = {**version.data, "title": application.title}
        people = {
            "representative": Person(f"parstavis.{tag}@example.lv", factories.PASSWORD),
            "coordinator": Person(
                f"koordinators.{tag}@example.lv", factories.PASSWORD, pyotp.random_base32()
            ),
            "national_admin": Person(
                f"ministrija.{tag}@example.lv", factories.PASSWORD, pyotp.random_base32()
            ),
        }
        users = {
            "representative": ev["applicants"][0],
            "coordinator": ev["coordinator"],
            "national_admin": factories.national_admin(),
        }
        for key, user in users.items():
            user.email, user.locale = people[key].email, language
            if people[key].totp_secret:
                user.totp_secret, user.totp_last_step = people[key].totp_secret, None
        with app.test_request_context(), force_locale(language):
            payment_labels = {s.value: str(s.label) for s in PaymentStatus}
        seed = Seed(
            application_id=application.id,
            application_title=application.title,
            payment_labels=payment_labels,
            **people,
        )
        db.session.commit()
        db.session.remove()
    return seed


def _stored(live_server, application_id: int) -> dict:
    """The report, the application's status and the final payment as stored in the live database."""
    from portal.applications.models import Application
    from portal.contracts.services import contract_of
    from portal.extensions import db
    from portal.payments.services import payments_of
    from portal.reports.services.form import report_for

    with live_server.app.app_context():
        try:
            application = db.session.get(Application, application_id)
            report = report_for(application)
            final = payments_of(contract_of(application)).get("final")
            state = {
                "status": str(application.status),
                "final_status": str(final.status) if final else None,
                "final_id": final.id if final else None,
            }
            if report is not None:
                state.update(
                    report_id=report.id,
                    counts=(
                        report.participants_total,
                        report.participants_grades_5_9,
                        report.participants_grades_10_12,
                        report.participants_vocational,
                        report.participants_risk,
                    ),
                    risk_by_category=dict(report.risk_by_category or {}),
                    times_returned=report.times_returned,
                    return_comments=dict(report.return_comments or {}),
                    submitted=report.submitted_at is not None,
                    approved=report.approved_at is not None,
                    pdf=report.pdf_file_id is not None,
                    acknowledged=report.acknowledged_at is not None,
                    declaration=report.declaration,
                )
            return state
        finally:
            db.session.remove()


def _go(page, link_selector: str, path: str, missing: list[str], what: str) -> None:
    """Follow the link when the page has one, else open the address (and note the missing link)."""
    link = page.locator(link_selector)
    if link.count():
        _follow(page, link.first)
    else:
        missing.append(f"{what}: no link to {path} on {_path(page)}")
        page.goto(path)
    assert _path(page) == path, page.url


def _to_report_form(page, application_page: str, edit_page: str, missing: list[str]) -> None:
    """From the application page to the report form: its link, else "My applications"' link, else the
    address (noted)."""
    link = page.locator(f"main a[href='{edit_page}']")
    if not link.count():
        missing.append(f"no link to {edit_page} on {application_page}")
        page.goto("/applications/")
    _go(page, f"main a[href='{edit_page}']", edit_page, missing, "my applications → report form")


def _fill_report(page, *, vocational: str) -> None:
    """Every section of the report (the grades add up to 27 + `vocational`)."""
    page.fill("#participants_total", "30")
    page.fill("#participants_grades_5_9", "18")
    page.fill("#participants_grades_10_12", "9")
    page.fill("#participants_vocational", vocational)
    page.fill("#participants_risk", "6")
    page.fill("#risk_by_category-learning", "4")
    page.fill("#risk_by_category-social", "2")
    rows = page.locator("#activities [data-row]").count()
    assert rows >= 1, "the activities section has a row"
    for index in range(rows):
        if not page.locator(f"#activities-{index}-planned").input_value().strip():
            page.fill(f"#activities-{index}-planned", "Darbnīcas skolā")
        page.fill(f"#activities-{index}-carried_out", f"Sešas podkāsta darbnīcas ({index + 1})")
        page.fill(f"#activities-{index}-dates", "2027. gada marts")
        page.fill(f"#activities-{index}-place", "Aizkraukles vidusskola")
        page.fill(f"#activities-{index}-hours", "12")
    page.fill("#youth_led", "Jaunieši izvēlējās tēmas, vadīja intervijas un montēja epizodes.")
    if not page.locator("#results-0-indicator").input_value().strip():
        page.fill("#results-0-indicator", "Izveidotas podkāsta epizodes")
    page.fill("#results-0-planned", "6")
    page.fill("#results-0-achieved", "6")
    page.fill("#publicity_links-0", "https://example.lv/jaunumi/podkasts")
    page.fill("#problems", "Viena darbnīca pārcelta slimības dēļ.")
    page.fill("#lessons", "Epizodes jāplāno ar rezerves laiku.")
    page.check("#declaration")


@pytest.mark.parametrize(("device", "language"), [("phone", "lv"), ("desktop", "en")])
def test_submit_return_correct_approve_pay_and_acknowledge_the_report(page, live_server, language):
    seed = _seed(live_server, language)
    application_page = f"/applications/{seed.application_id}"
    edit_page = f"/reports/applications/{seed.application_id}/edit"
    contract_page = f"/contracts/applications/{seed.application_id}"
    missing: list[str] = []

    # --- The representative: starts the report, fills it, a wrong sum first, then submits -------------
    _log_in(page, seed.representative)
    _follow(page, page.locator("nav.main-nav a[href='/applications/']"))
    _check(page, language, "my applications")
    _follow(page, page.locator(f"main a[href='{application_page}']"))
    assert seed.application_title in _text(page)
    _check(page, language, "the application in progress")
    _to_report_form(page, application_page, edit_page, missing)
    assert page.locator(f"main form[action='{edit_page}'] button[type=submit]").count() == 1
    assert _stored(live_server, seed.application_id).get("report_id") is None
    _check(page, language, "report not started")

    _press(page, page.locator(f"main form[action='{edit_page}'] button[type=submit]"))
    assert _path(page) == edit_page, page.url
    stored = _stored(live_server, seed.application_id)
    report_id = stored["report_id"]
    assert page.locator("#report-form").count() == 1, _text(page)[:1500]
    _check(page, language, "empty report form")

    _fill_report(page, vocational="2")
    submit = page.locator(f"#report-form button[formaction='/reports/{report_id}/submit']")
    _press(page, submit)
    assert _path(page) == f"/reports/{report_id}/submit", page.url
    assert page.locator("#error-summary a[href='#participants_grades_5_9']").count() == 1, _text(page)[:2000]
    field = page.locator("#participants_grades_5_9")
    assert field.get_attribute("aria-invalid") == "true"
    error = page.locator("#participants_grades_5_9-error")
    assert error.is_visible() and "30" in error.inner_text(), error.inner_text()
    assert page.locator("#section-participants #participants_grades_5_9-error").count() == 1
    kept = {
        "#participants_total": "30",
        "#participants_grades_5_9": "18",
        "#participants_grades_10_12": "9",
        "#participants_vocational": "2",
        "#participants_risk": "6",
        "#risk_by_category-learning": "4",
        "#publicity_links-0": "https://example.lv/jaunumi/podkasts",
        "#results-0-achieved": "6",
    }
    for selector, value in kept.items():
        assert page.locator(selector).input_value() == value, f"{selector} not kept as typed"
    assert "podkāsta darbnīcas" in page.locator("#activities-0-carried_out").input_value()
    assert page.locator("#declaration").is_checked(), "the declaration stays ticked"
    stored = _stored(live_server, seed.application_id)
    assert stored["status"] == "in_progress" and not stored["submitted"], stored
    _check(page, language, "submission refused: the grades do not add up")

    page.fill("#participants_vocational", "3")
    _press(page, page.locator(f"#report-form button[formaction='/reports/{report_id}/submit']"))
    assert _path(page) == f"/reports/{report_id}", f"not submitted: {_text(page)[:2000]}"
    _flash(page)
    stored = _stored(live_server, seed.application_id)
    assert stored["status"] == "report_submitted" and stored["submitted"], stored
    assert stored["counts"] == (30, 18, 9, 3, 6), stored
    assert stored["risk_by_category"] == {"learning": 4, "social": 2}, stored
    assert stored["declaration"] is True
    assert page.locator(f"main a[href='{edit_page}']").count() == 0, "no editing once submitted"
    _check(page, language, "report submitted")
    _log_out(page)

    # --- The coordinator: the list of reports, the report, returned with a comment ---------------------
    review_page = f"/reports/{report_id}/review"
    comment = "Precizējiet riska kategorijas: viens dalībnieks ir no ģimenes riska grupas."
    _log_in(page, seed.coordinator, previous_step=True)
    _check(page, language, "coordinator logged in")
    _go(page, "nav.main-nav a[href='/reports/']", "/reports/", missing, "coordinator's main menu → reports")
    _check(page, language, "the municipality's reports")
    row = page.locator(f"#project-{seed.application_id}")
    assert row.count() == 1, _text(page)[:1500]
    _follow(page, row.locator(f"a[href='{review_page}']"))
    assert _path(page) == review_page, page.url
    assert page.locator("main h1 .badge-report_submitted").count() == 1
    _check(page, language, "report to review")

    page.fill("#comment_participants", comment)
    _press(page, page.locator(f"main form[action='/reports/{report_id}/return'] button[type=submit]"))
    assert _path(page) == review_page, page.url
    _flash(page)
    stored = _stored(live_server, seed.application_id)
    assert stored["status"] == "report_returned" and stored["times_returned"] == 1, stored
    assert stored["return_comments"].get("participants") == comment, stored
    assert comment in _text(page, "main"), "the comment is shown on the review page"
    assert page.locator(f"main form[action='/reports/{report_id}/return']").count() == 0, "returned once"
    _check(page, language, "report returned")
    _log_out(page)

    # --- The representative: the comment at the participants section; corrects and resubmits ----------
    _log_in(page, seed.representative)
    _follow(page, page.locator("nav.main-nav a[href='/applications/']"))
    _follow(page, page.locator(f"main a[href='{application_page}']"))
    _to_report_form(page, application_page, edit_page, missing)
    assert page.locator("#returned-title").count() == 1, _text(page)[:1500]
    assert comment in _plain(page.locator("#section-participants .notice").inner_text())
    assert page.locator("#section-activities .notice").count() == 0, "only the commented section"
    assert page.locator("#participants_vocational").input_value() == "3", "the stored report is loaded"
    _check(page, language, "returned report with the comment")

    page.fill("#risk_by_category-learning", "3")
    page.fill("#risk_by_category-family", "1")
    _press(page, page.locator(f"#report-form button[formaction='/reports/{report_id}/submit']"))
    assert _path(page) == f"/reports/{report_id}", f"not resubmitted: {_text(page)[:2000]}"
    _flash(page)
    stored = _stored(live_server, seed.application_id)
    assert stored["status"] == "report_submitted", stored
    assert stored["risk_by_category"] == {"learning": 3, "social": 2, "family": 1}, stored
    _check(page, language, "corrected report submitted")
    _log_out(page)

    # --- The coordinator: approves in full; the final payment is then approved --------------------------
    _log_in(page, seed.coordinator)
    page.goto("/reports/")
    _follow(page, page.locator(f"#project-{seed.application_id} a[href='{review_page}']"))
    assert page.locator(f"main form[action='/reports/{report_id}/return']").count() == 0, "not twice"
    _check(page, language, "corrected report to review")
    assert page.locator("#amount").input_value() == "", "no reduction proposed"
    _press(page, page.locator(f"main form[action='/reports/{report_id}/approve'] button[type=submit]"))
    assert _path(page) == review_page, f"not approved: {_text(page)[:2000]}"
    _flash(page)
    stored = _stored(live_server, seed.application_id)
    assert stored["status"] == "forwarded" and stored["approved"] and stored["pdf"], stored
    assert page.locator(f"main a[href='/reports/{report_id}/report.pdf']").count() >= 1
    assert page.locator(f"main form[action='/reports/{report_id}/approve']").count() == 0
    _check(page, language, "report approved and forwarded")

    _go(page, f"main a[href='{contract_page}']", contract_page, missing, "review page → contract")
    final = page.locator("#contract-payment-final")
    approve = final.locator(f"form[action='/payments/{stored['final_id']}/approve'] button")
    assert approve.count() == 1, f"the final payment cannot be approved: {_plain(final.inner_text())}"
    _check(page, language, "contract page: the final payment approvable")
    _press(page, approve)
    assert _path(page) == contract_page, page.url
    _flash(page)
    final = page.locator("#contract-payment-final")
    cells = [_plain(c).strip() for c in final.locator("td").all_inner_texts()]
    assert cells[1] == seed.payment_labels["approved"], cells
    assert cells[2] != "—", "the approval date is shown"
    assert final.locator("form[action$='/approve']").count() == 0
    assert _stored(live_server, seed.application_id)["final_status"] == "approved"
    _check(page, language, "final payment approved")
    _log_out(page)

    # --- The national administrator: the overview, the forwarded report, acknowledged -----------------
    _log_in(page, seed.national_admin, previous_step=True)
    _go(
        page,
        "nav.main-nav a[href='/reports/national']",
        "/reports/national",
        missing,
        "national menu → reports",
    )
    _check(page, language, "the national overview of reports")
    row = page.locator(f"#project-{seed.application_id}")
    assert row.count() == 1, _text(page)[:1500]
    _follow(page, row.locator(f"a[href='{review_page}']"))
    assert _path(page) == review_page, page.url
    assert page.locator("main h1 .badge-forwarded").count() == 1
    assert page.locator(f"main form[action='/reports/{report_id}/approve']").count() == 0, (
        "no coordinator's forms"
    )
    _check(page, language, "forwarded report")
    _press(page, page.locator(f"main form[action='/reports/{report_id}/acknowledge'] button[type=submit]"))
    assert _path(page) == review_page, page.url
    _flash(page)
    stored = _stored(live_server, seed.application_id)
    assert stored["status"] == "closed" and stored["acknowledged"], stored
    assert page.locator("main h1 .badge-closed").count() == 1
    assert page.locator(f"main form[action='/reports/{report_id}/acknowledge']").count() == 0
    _check(page, language, "report acknowledged: project closed")

    # Every step was reached through a link on the page, none by typing its address.
    assert not missing, "links missing on the way:\n" + "\n".join(missing)
