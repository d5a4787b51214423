"""Contract generation (issue 7): the template (municipality's own, else the programme's default, else
the built-in Latvian text) filled in through a locked-down sandbox, rendered to a stored PDF whose
text carries the Latvian letters, the amount in figures and words and the dates, and which never
fetches or runs anything a user typed (QUALITY E3)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from portal.contracts import generation, services
from portal.contracts.models import ContractStatus, ContractTemplate
from portal.core import storage
from portal.core.audit import AuditEvent
from portal.core.pdf import sha256
from portal.core.timeutil import to_riga, utcnow
from portal.core.workflow import TransitionDenied, WorkflowError
from portal.extensions import db as _db
from tests import factories

ORG_NAME = "Biedrība „Ģērķļņšžčūāēī” Ķekava"
TITLE = "Jauniešu ķīļi: ģērbe, šūšana, žūrija, čakli ņaudēšana"


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture()
def funded(db):
    """A decided call with one funded application (the other on the reserve list), like the fixture in
    test_numbering_and_payments.py; the funded one has Latvian letters in its names and a contract."""
    ev = factories.decided_call(2, funded=1, scores=(3, 2))
    application = ev["applications"][0]
    application.title = TITLE
    application.organisation.name = ORG_NAME
    application.organisation.bank_name = "Swedbank"
    ev["applicants"][0].full_name = "Ērika Ņikiforova"
    _db.session.flush()
    ev["application"] = application
    ev["contract"] = services.create_contract(application, actor=ev["coordinator"])
    return ev


def test_the_contract_pdf_reads_in_latvian_with_the_amount_and_dates(funded):
    contract, coordinator = funded["contract"], funded["coordinator"]
    stored = generation.render_contract_pdf(contract, actor=coordinator)
    data = storage.read_file(stored)
    assert data.startswith(b"%PDF") and stored.content_type == "application/pdf"
    assert contract.pdf_file_id == stored.id
    assert contract.pdf_sha256 == sha256(data) == stored.sha256

    text = _text(data)
    squashed = "".join(text.split())
    assert f"Līgums Nr. {contract.number}" in text
    for letter in "ģķļņšžčūāēī":
        assert letter in text, letter
    assert ORG_NAME in text and TITLE in text
    assert "Ērika Ņikiforova" in text  # the organisation's representative
    assert funded["call"].contact_name in text  # the municipality's representative
    assert contract.amount == Decimal("4600.00")
    assert "4600,00" in squashed
    assert "četri tūkstoši seši simti euro, 00 centi" in text
    # 80 % advance and 20 % final
    assert "3680,00" in squashed and "920,00" in squashed
    assert "01.03.2026" in text and "30.11.2026" in text
    assert contract.report_due.strftime("%d.%m.%Y") in text
    assert to_riga(utcnow()).date().strftime("%d.%m.%Y") in text
    assert "LV80BANK0000435195001" in text
    # the annex: the submitted application by version
    assert "versija Nr. 1" in text
    assert AuditEvent.query.filter_by(action="contract.generated", object_id=contract.id).count() == 1


def test_generating_needs_the_municipality_coordinator_and_a_draft(funded):
    contract = funded["contract"]
    with pytest.raises(TransitionDenied):
        generation.render_contract_pdf(contract, actor=funded["applicants"][0])
    assert contract.pdf_file_id is None
    contract.status, contract.sent_at = ContractStatus.SENT, utcnow()
    with pytest.raises(WorkflowError):
        generation.render_contract_pdf(contract, actor=funded["coordinator"])


def test_the_municipality_template_wins_over_the_programme_default(funded):
    call = funded["call"]
    programme = call.programme
    builtin = generation.template_for(programme, call.municipality_id)
    assert "{{ amount_words }}" in builtin and "PMP" in builtin
    assert generation.default_template_body(programme) == builtin

    _db.session.add(ContractTemplate(programme_id=programme.id, body="Programmas teksts {{ number }}"))
    _db.session.flush()
    assert generation.template_for(programme, call.municipality_id) == "Programmas teksts {{ number }}"
    _db.session.add(
        ContractTemplate(
            programme_id=programme.id, municipality_id=call.municipality_id, body="Novada teksts {{ title }}"
        )
    )
    _db.session.flush()
    assert generation.template_for(programme, call.municipality_id) == "Novada teksts {{ title }}"
    assert generation.template_for(programme, None) == "Programmas teksts {{ number }}"

    stored = generation.render_contract_pdf(funded["contract"], actor=funded["coordinator"])
    text = _text(storage.read_file(stored))
    assert f"Novada teksts {TITLE}" in text
    assert "Programmas teksts" not in text


def test_paragraphs_and_line_breaks_are_kept():
    paragraphs = generation.render_body("A {{ number }}\nB\n\n\nC & <b>", {"number": "<i>1</i>"})
    assert [str(p) for p in paragraphs] == ["A &lt;i&gt;1&lt;/i&gt;\nB", "C &amp; &lt;b&gt;"]


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ config }}",
        "{{ request }}",
        "{{ title|safe }}",
        "{% autoescape false %}{{ title }}{% endautoescape %}",
        "{{ lipsum.__globals__ }}",
        "{% for x in range(10**9) %}x{% endfor %}",
        "{{ number",
    ],
)
def test_a_template_reaching_beyond_its_placeholders_is_refused(body):
    with pytest.raises(WorkflowError) as refused:
        generation.render_body(body, {"title": "<b>x</b>"})
    assert refused.value.field == "body"
    assert str(refused.value)
    with pytest.raises(WorkflowError):
        generation.validate_template_body(body)


def test_a_broken_municipality_template_stops_generation_with_a_message(funded):
    call = funded["call"]
    _db.session.add(
        ContractTemplate(
            programme_id=call.programme_id, municipality_id=call.municipality_id, body="{{ config }}"
        )
    )
    _db.session.flush()
    with pytest.raises(WorkflowError) as refused:
        generation.render_contract_pdf(funded["contract"], actor=funded["coordinator"])
    assert refused.value.field == "body" and "config" in str(refused.value)
    assert funded["contract"].pdf_file_id is None


def test_the_preview_is_a_pdf_that_is_not_stored(funded):
    before = storage.StoredFile.query.count()
    data = generation.preview_contract_pdf(funded["application"], "Paraugs: {{ title }} {{ amount }}")
    assert data.startswith(b"%PDF")
    text = _text(data)
    assert "PARAUGS" in text and TITLE in text and "4600,00" in "".join(text.split())
    assert storage.StoredFile.query.count() == before
    with pytest.raises(WorkflowError):
        generation.preview_contract_pdf(funded["application"], "{{ ''.__class__ }}")


def test_markup_in_every_user_field_is_printed_and_never_fetched(funded, canary):
    """QUALITY E3: the title, the organisation's name, IBAN and bank, the representatives, the call's contact
    person and the municipality's own contract text carry markup that would fetch from a loopback
    server, read a local file or run a script; the PDF shows it as text and fetches nothing."""
    port, hits = canary
    payload = (
        f'<img src="http://127.0.0.1:{port}/img"><link rel="stylesheet" href="http://127.0.0.1:{port}/css">'
        f'<iframe src="file:///etc/passwd"></iframe>'
        f"<script>var x=new XMLHttpRequest();x.open('GET','http://127.0.0.1:{port}/xhr',false);x.send();"
        'document.write("EXECUTED")</script>'
    )
    short = f'<img src="http://127.0.0.1:{port}/s">'
    call, application = funded["call"], funded["application"]
    application.title = payload[:300]
    org = application.organisation
    org.name = "Biedrība " + payload[:180]
    org.bank_name = short[:100]
    org.iban = f"<img src=http://127.0.0.1:{port}/i>"[:34]
    funded["applicants"][0].full_name = "Vārds " + payload[:150]
    call.contact_name = "Koordinators " + payload[:180]
    _db.session.add(
        ContractTemplate(
            programme_id=call.programme_id,
            municipality_id=call.municipality_id,
            body=payload
            + "\n\n{{ organisation }}\n\nNosaukums: {{ title }}\n\nBanka: {{ bank }} {{ iban }}"
            + "\n\n{{ representative }} {{ coordinator }}",
        )
    )
    _db.session.flush()

    stored = generation.render_contract_pdf(funded["contract"], actor=funded["coordinator"])
    data = storage.read_file(stored)
    assert funded["contract"].pdf_sha256 == sha256(data)
    text = _text(data)
    squashed = "".join(text.split())
    assert hits == []
    assert "CANARY-SECRET" not in text
    assert "root:" not in text
    assert "EXECUTED" not in text.replace('document.write("EXECUTED")', "")
    assert "<script>" in squashed and '<iframesrc="file:///etc/passwd">' in squashed
    assert "".join(short.split()) in squashed
    assert "".join(org.iban.split()) in squashed
    assert "Biedrība<img" in squashed and "Vārds<img" in squashed and "Koordinators<img" in squashed

    preview = generation.preview_contract_pdf(application, payload + " {{ title }}")
    assert hits == []
    assert "<script>" in "".join(_text(preview).split())


def test_the_dates_are_riga_dates(funded):
    contract = funded["contract"]
    contract.start_date, contract.end_date, contract.report_due = (
        date(2026, 4, 2),
        date(2026, 12, 31),
        date(2027, 1, 15),
    )
    values = generation.contract_values(funded["application"], generation._contract_facts(contract))
    assert (values["start_date"], values["end_date"], values["report_due"]) == (
        "02.04.2026",
        "31.12.2026",
        "15.01.2027",
    )
    assert values["amount"] == "4 600,00" and values["advance_percent"] == "80"
    assert values["amount_words"] == "četri tūkstoši seši simti euro, 00 centi"
    assert values["representative"] == "Ērika Ņikiforova"
