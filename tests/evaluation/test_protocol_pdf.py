"""The evaluation protocol PDF (issue 5): rendered with wkhtmltopdf after the decision, stored with its
SHA-256; its text carries the Latvian letters, the members, the recusals, the scores and averages."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from portal.core import storage
from portal.core.pdf import sha256
from portal.core.timeutil import to_riga, utcnow
from portal.evaluation.models import ConflictDeclaration
from portal.evaluation.services import decisions
from portal.evaluation.services.scoring import quality_criteria
from portal.extensions import db
from tests.factories import evaluation_call, sample_pdf, score

LATVIAN_LETTERS = "āčēģīķļņšūž"
CALL_TITLE = "Vērtēšanā: ķīļi, ģērbe, žūrija, čakls, ņaudēt"


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture()
def decided(db):
    ev = evaluation_call(3, projects=2, quota=2)
    call = ev["call"]
    call.title = CALL_TITLE
    chair, second, third = ev["committee"]["members"]
    chair.user.full_name = "Mārtiņš Ķēniņš"
    first_app, second_app, third_app = ev["applications"]
    first_app.title = "Projekts <b>drošs</b> & godīgs"
    db.session.add(
        ConflictDeclaration(
            member_id=third.id, application_id=third_app.id, recused=True, reason="Brālēns vada biedrību"
        )
    )
    db.session.flush()
    criteria = quality_criteria(call)
    full = [3] * len(criteria)
    less = [3 if c.code != "capacity" else 2 for c in criteria]
    for member, sheet in zip((chair, second, third), (full, less, less), strict=True):
        score(member, first_app, sheet, comment="Ļoti labi")
        score(member, second_app, 2, comment="Vidēji")
    score(chair, third_app, 2)
    score(second, third_app, 1, comment="Vāji pamatots budžets")
    decisions.consolidate_call(call, actor=ev["coordinator"])
    decision = decisions.record_decision(
        call,
        number="Nr. 7 (prot. 3, 5.§)",
        decided_on=to_riga(utcnow()).date(),
        file_data=sample_pdf(),
        filename="lēmums.pdf",
        outcomes={},
        actor=ev["coordinator"],
    )
    ev["decision"] = decision
    return ev


def test_the_stored_protocol_matches_its_hash_and_reads_in_latvian(decided):
    decision = decided["decision"]
    stored = db.session.get(storage.StoredFile, decision.protocol_file_id)
    data = storage.read_file(stored)
    assert data.startswith(b"%PDF")
    assert decision.protocol_sha256 == sha256(data) == stored.sha256
    assert stored.content_type == "application/pdf"

    text = _text(data)
    for letter in LATVIAN_LETTERS:
        assert letter in text, letter
    assert "ķīļi" in text and "žūrija" in text
    assert "Mārtiņš Ķēniņš" in text
    # the averages in Latvian number format: (30 + 29.5 + 29.5) / 3 and 20 points
    assert "29,67" in text
    assert "20" in text
    assert "Nr. 7 (prot. 3, 5.§)" in text
    # the recusal and its reason; the comments
    assert "Brālēns vada biedrību" in text
    assert "Vāji pamatots budžets" in text
    # user data is text, never markup
    assert "<b>drošs</b>" in text


def _stored_text(ev) -> str:
    return _text(storage.read_file(db.session.get(storage.StoredFile, ev["decision"].protocol_file_id)))


def test_the_protocol_lists_every_member_and_the_ranking(decided):
    text = _stored_text(decided)
    for member in decided["committee"]["members"]:
        assert member.user.full_name in text
    assert decided["committee"]["secretary"].user.full_name in text
    # the weighted totals per member and the averages (Latvian decimals)
    assert "29,5" in text and "2,33" in text and "15" in text


def test_the_protocol_states_the_quorum_reached(decided):
    text = _stored_text(decided)
    assert "3 of 3" in text or "3 no 3" in text


def test_markup_in_every_user_field_is_printed_and_never_fetched(db, canary):
    """QUALITY E3: names, titles, comments, reasons and the decision number carry markup that would
    fetch from a loopback server or run a script; the PDF shows it as text and fetches nothing."""
    port, hits = canary
    payload = (
        f'<img src="http://127.0.0.1:{port}/img"><link rel="stylesheet" href="http://127.0.0.1:{port}/css">'
        f'<iframe src="file:///etc/passwd"></iframe><img src="file:///etc/hostname">'
        f"<script>var x=new XMLHttpRequest();x.open('GET','http://127.0.0.1:{port}/xhr',false);x.send();"
        'document.write("EXECUTED")</script>'
    )
    ev = evaluation_call(2, projects=1, quota=1)
    call, (first, second) = ev["call"], ev["applications"]
    call.title = "Konkurss " + payload[:200]
    chair, member, third = ev["committee"]["members"]
    chair.user.full_name = "Vārds " + payload[:150]
    first.title = payload[:290]
    first.organisation.name = "Biedrība " + payload[:150]
    db.session.add(
        ConflictDeclaration(member_id=third.id, application_id=second.id, recused=True, reason=payload)
    )
    db.session.flush()
    for m in (chair, member):
        score(m, first, 1, comment=payload)
        score(m, second, 3)
    score(third, first, 3)
    decisions.consolidate_call(call, actor=ev["coordinator"])
    decision = decisions.record_decision(
        call,
        number="Nr. <b>1</b>",
        decided_on=to_riga(utcnow()).date(),
        file_data=sample_pdf(),
        filename="l.pdf",
        outcomes={},
        actor=ev["coordinator"],
    )
    text = _text(storage.read_file(decision.protocol_file))
    squashed = "".join(text.split())
    assert hits == []
    assert "CANARY-SECRET" not in text
    assert "root:" not in text  # /etc/passwd never made it in
    assert "EXECUTED" not in text.replace('document.write("EXECUTED")', "")
    assert "<script>" in squashed and "Nr.<b>1</b>" in squashed
