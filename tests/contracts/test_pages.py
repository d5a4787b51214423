"""The contract pages (issue 7): the coordinator creates, sends and counter-signs through the page; the
representative uploads the signed file; everyone else gets 404; a draft stays the municipality's; the
coordinator's list costs the same number of queries whatever it shows."""

from __future__ import annotations

from io import BytesIO

from portal.applications.workflow import ApplicationStatus
from portal.contracts import services, signing
from portal.contracts.models import ContractStatus
from portal.core.enums import Role
from portal.extensions import db as _db
from tests import factories
from tests.helpers import Page, count_queries, csrf_token
from tests.test_accessibility_markup import _statement_url, markup_problems


def _page(contract_or_application):
    application_id = getattr(contract_or_application, "application_id", None) or contract_or_application.id
    return f"/contracts/applications/{application_id}"


def _reload(contract):
    _db.session.expire_all()
    return contract


def test_the_coordinator_creates_sends_and_countersigns_through_the_page(client, login_as):
    ev = factories.decided_call(2, funded=1, scores=(3, 2))
    application = ev["applications"][0]
    login_as(ev["coordinator"])
    page = client.get(_page(application))
    assert page.status_code == 200 and "Create the contract" in page.get_data(as_text=True)
    token = csrf_token(client, _page(application))

    created = client.post(f"/contracts/applications/{application.id}/create", data={"csrf_token": token})
    assert created.status_code == 302
    contract = services.contract_of(application)
    assert contract.status == ContractStatus.DRAFT and len(contract.pdf_sha256) == 64  # really rendered
    html = client.get(_page(application)).get_data(as_text=True)
    assert contract.number in html and contract.pdf_sha256 in html and "Generate the PDF again" in html
    assert markup_problems(html, lang="en", statement_url=_statement_url(client.application)) == []
    pdf = client.get(f"/contracts/{contract.id}/files/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    sent = client.post(f"/contracts/{contract.id}/send", data={"sign_days": "5", "csrf_token": token})
    assert sent.status_code == 302 and _reload(contract).status == ContractStatus.SENT
    assert contract.application.status == ApplicationStatus.CONTRACT_SENT

    signing.upload_signed(contract, factories.sample_pdf(b"s"), "parakstits.pdf", actor=ev["applicants"][0])
    _db.session.commit()
    html = client.get(_page(application)).get_data(as_text=True)
    assert "Confirm the counter-signature" in html and contract.applicant_sha256 in html
    assert markup_problems(html, lang="en", statement_url=_statement_url(client.application)) == []
    signed = client.post(f"/contracts/{contract.id}/countersign", data={"csrf_token": token})
    assert signed.status_code == 302 and _reload(contract).status == ContractStatus.SIGNED
    assert contract.application.status == ApplicationStatus.CONTRACT_SIGNED


def test_a_bad_number_of_days_is_shown_by_the_field(client, login_as):
    contract, ev = factories.contract_in("draft")
    login_as(ev["coordinator"])
    token = csrf_token(client, _page(contract))
    for value in ("0", "abc", "31"):
        response = client.post(
            f"/contracts/{contract.id}/send", data={"sign_days": value, "csrf_token": token}
        )
        page = Page(response.get_data(as_text=True))
        assert response.status_code == 200, value
        assert page.by_id("sign_days-error") is not None, value
        assert page.by_id("sign_days").get("value") == value
    assert _reload(contract).status == ContractStatus.DRAFT


def test_the_coordinator_terminates_a_signed_contract_with_a_reason(client, login_as):
    contract, ev = factories.contract_in("signed")
    login_as(ev["coordinator"])
    token = csrf_token(client, _page(contract))
    refused = client.post(f"/contracts/{contract.id}/terminate", data={"reason": " ", "csrf_token": token})
    assert refused.status_code == 200 and Page(refused.get_data(as_text=True)).by_id("reason-error")
    done = client.post(
        f"/contracts/{contract.id}/terminate",
        data={"reason": "Projekts netiek īstenots.", "csrf_token": token},
    )
    assert done.status_code == 302 and _reload(contract).status == ContractStatus.TERMINATED
    html = client.get(_page(contract)).get_data(as_text=True)
    assert "Projekts netiek īstenots." in html and "Terminated" in html


def test_the_representative_uploads_the_signed_file_and_sees_its_hash(client, login_as):
    contract, ev = factories.contract_in("sent")
    login_as(ev["applicants"][0])
    page = client.get(_page(contract))
    assert page.status_code == 200 and "Upload the signed contract" in page.get_data(as_text=True)
    assert client.get(f"/contracts/{contract.id}/files/pdf").status_code == 200
    token = csrf_token(client, _page(contract))
    uploaded = client.post(
        f"/contracts/{contract.id}/signed",
        data={"file": (BytesIO(factories.sample_pdf(b"sig")), "parakstits.pdf"), "csrf_token": token},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert uploaded.status_code == 200
    assert _reload(contract).status == ContractStatus.SIGNED_BY_APPLICANT
    assert contract.applicant_sha256 in uploaded.get_data(as_text=True)
    assert client.get(f"/contracts/{contract.id}/files/applicant").status_code == 200


def test_a_member_who_is_not_the_representative_sees_but_cannot_upload(client, login_as):
    contract, _ev = factories.contract_in("sent")
    member = factories.UserFactory()
    factories.membership(member, Role.APPLICANT, organisation=contract.application.organisation)
    login_as(member)
    page = client.get(_page(contract))
    assert page.status_code == 200 and "Upload the signed contract" not in page.get_data(as_text=True)
    token = csrf_token(client, _page(contract))
    response = client.post(
        f"/contracts/{contract.id}/signed",
        data={"file": (BytesIO(factories.sample_pdf()), "l.pdf"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 404 and _reload(contract).status == ContractStatus.SENT


def test_a_draft_is_the_municipality_s_only(client, login_as):
    contract, ev = factories.contract_in("draft")
    login_as(ev["applicants"][0])
    assert client.get(_page(contract)).status_code == 404
    assert client.get(f"/contracts/{contract.id}/files/pdf").status_code == 404


def test_another_municipality_s_coordinator_gets_404_everywhere(client, login_as):
    contract, ev = factories.contract_in("signed_by_applicant")
    login_as(factories.coordinator(factories.municipality("0044000")))
    token = csrf_token(client, "/account/settings")
    assert client.get(_page(contract)).status_code == 404
    for kind in ("pdf", "applicant", "countersigned"):
        assert client.get(f"/contracts/{contract.id}/files/{kind}").status_code == 404
    posts = [f"/contracts/applications/{contract.application_id}/create"] + [
        f"/contracts/{contract.id}/{action}"
        for action in ("generate", "send", "countersign", "terminate", "signed")
    ]
    for url in posts:
        assert (
            client.post(url, data={"csrf_token": token, "reason": "x", "sign_days": "5"}).status_code == 404
        ), url
    listing = client.get("/contracts/")
    assert listing.status_code == 200 and contract.number not in listing.get_data(as_text=True)
    assert _reload(contract).status == ContractStatus.SIGNED_BY_APPLICANT


def test_the_list_is_for_coordinators_and_costs_the_same_queries_for_1_or_4_contracts(app, client, login_as):
    ev = factories.decided_call(4, funded=4, scores=(3, 3, 3, 3))
    coordinator = ev["coordinator"]
    funded = [a for a in ev["applications"] if a.status == ApplicationStatus.FUNDED]
    assert len(funded) == 4
    services.create_contract(funded[0], actor=coordinator)
    _db.session.commit()
    login_as(ev["applicants"][0])
    assert client.get("/contracts/").status_code == 404
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/account/settings")})

    login_as(coordinator)
    client.get("/contracts/")  # warm up: the session's last-seen touch and caches
    _db.session.expire_all()  # nothing served from the identity map: an N+1 would show
    with count_queries(_db.engine) as one:
        html = client.get("/contracts/").get_data(as_text=True)
    assert html.count("No contract yet") >= 3
    contracts = [services.create_contract(a, actor=coordinator) for a in funded[1:]]
    _db.session.flush()
    _db.session.expire_all()
    with count_queries(_db.engine) as four:
        html = client.get("/contracts/").get_data(as_text=True)
    assert all(c.number in html for c in contracts)
    assert markup_problems(html, lang="en", statement_url=_statement_url(app)) == []
    assert len(four) == len(one), "\n".join(s[:150] for s in four)
    filtered = client.get("/contracts/?status=none").get_data(as_text=True)
    assert contracts[0].number not in filtered
    assert len(one) <= 8


def test_the_application_page_leads_to_the_contract_once_it_is_sent(client, login_as):
    contract, ev = factories.contract_in("draft")
    link = f'href="{_page(contract)}"'
    login_as(ev["applicants"][0])
    assert link not in client.get(f"/applications/{contract.application_id}").get_data(as_text=True)
    signing.send_contract(contract, actor=ev["coordinator"])
    _db.session.commit()
    assert link in client.get(f"/applications/{contract.application_id}").get_data(as_text=True)
    assert link in client.get("/applications/").get_data(as_text=True)  # "what to do next"


def test_the_coordinator_reaches_the_contract_from_the_results(client, login_as):
    contract, ev = factories.contract_in("draft")
    login_as(ev["coordinator"])
    html = client.get(f"/evaluation/calls/{ev['call'].id}/results").get_data(as_text=True)
    assert f'href="{_page(contract)}"' in html
    assert f'href="{_page(contract)}"' in client.get(f"/applications/{contract.application_id}").get_data(
        as_text=True
    )
