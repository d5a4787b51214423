"""The final report's rules (issue 8) at their boundaries: counts, sums, the PMP-risk share, personal codes
in free text, links; a draft takes gaps but never a code or a negative number."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from flask_babel import force_locale

from portal.core.privacy import contains_personal_code
from portal.reports import rules

PROGRAMME = SimpleNamespace(
    min_risk_share=Decimal("10.00"),
    risk_categories=[
        {"code": "learning", "lv": "Mācību", "en": "Learning"},
        {"code": "family", "lv": "Ģimenes", "en": "Family"},
    ],
)
CODE = "Jānis 010190-12345"


def complete(**changes) -> dict:
    """A complete report: 30 participants, 3 of them at risk (exactly the 10 % minimum)."""
    values = {
        "participants_total": 30,
        "participants_grades_5_9": 18,
        "participants_grades_10_12": 9,
        "participants_vocational": 3,
        "participants_risk": 3,
        "risk_by_category": {"learning": 2, "family": 1},
        "activities": [
            {
                "planned": "Darbnīcas",
                "carried_out": "Sešas darbnīcas",
                "dates": "2027-02",
                "place": "Skola",
                "hours": 12,
                "methods": "",
                "change_reason": "",
            }
        ],
        "schools": [{"name": "Vidusskola", "count": 20}, {"name": "Pamatskola", "count": 10}],
        "results": [{"indicator": "Dalībnieki", "planned": "30", "achieved": "30", "comment": ""}],
        "publicity_links": ["https://example.lv/zinas"],
        "youth_led": "Jaunieši plānoja un vadīja.",
        "problems": "",
        "lessons": "Plānot laikus.",
        "evidence_consent": False,
        "declaration": True,
    }
    values.update(changes)
    return values


def test_a_complete_report_passes_and_the_share_exactly_at_the_minimum_passes(app):
    assert rules.submission_problems(complete(), PROGRAMME) == {}
    assert rules.risk_share(30, 3) == Decimal("10.00")


def test_one_participant_at_risk_less_than_the_minimum_fails(app):
    values = complete(participants_risk=2, risk_by_category={"learning": 2})
    with force_locale("en"):
        problems = rules.submission_problems(values, PROGRAMME)
    assert set(problems) == {"participants_risk"}
    assert "10" in str(problems["participants_risk"]) and "6.66" in str(problems["participants_risk"])


SUM_CASES = [
    ({"participants_vocational": 4}, "participants_grades_5_9"),  # bands 31 ≠ 30
    ({"schools": [{"name": "Vidusskola", "count": 29}]}, "schools"),
    ({"risk_by_category": {"learning": 4, "family": 1}}, "risk_by_category"),  # 4 of 3 at risk
    ({"risk_by_category": {"learning": 0, "family": 0}}, "risk_by_category"),  # which risks?
    ({"participants_risk": 31, "risk_by_category": {"learning": 31}}, "participants_risk"),
    ({"schools": [{"name": "", "count": 30}]}, "schools-0-name"),
]


def test_the_sums_must_match_the_total(app):
    # Categories may overlap (as in the application): 3 and 2 of 3 at risk is fine.
    assert rules.submission_problems(complete(risk_by_category={"learning": 3, "family": 2}), PROGRAMME) == {}
    for changes, field in SUM_CASES:
        problems = rules.submission_problems(complete(**changes), PROGRAMME)
        assert set(problems) == {field}, changes


def test_submission_needs_every_section_but_a_draft_takes_gaps(app):
    taken, problems = rules.clean({"participants_total": "", "youth_led": "", "activities": []}, PROGRAMME)
    assert problems == {} and taken["participants_total"] is None
    missing = rules.submission_problems({}, PROGRAMME)
    assert {
        "activities",
        "participants_total",
        "participants_risk",
        "youth_led",
        "results",
        "publicity_links",
        "lessons",
        "declaration",
    } <= set(missing)
    # Photos need the consent; a publicity file stands in for the links.
    assert set(rules.submission_problems(complete(), PROGRAMME, has_photos=True)) == {"evidence_consent"}
    assert rules.submission_problems(complete(publicity_links=[]), PROGRAMME, publicity_files=1) == {}


FREE_TEXT = (
    "youth_led", "problems", "lessons",
    "activities-0-planned", "activities-0-carried_out", "activities-0-dates", "activities-0-place",
    "activities-0-methods", "activities-0-change_reason",
    "results-0-indicator", "results-0-planned", "results-0-achieved", "results-0-comment",
    "schools-0-name",
)  # fmt: skip


def test_a_personal_code_in_any_free_text_is_refused_with_guidance(app):
    assert contains_personal_code(CODE) and contains_personal_code("32345678901")
    assert not contains_personal_code("Tālrunis 67 123 456, 2027-02-03")
    for field in FREE_TEXT:
        if "-" in field:
            section, _index, key = field.split("-")
            values = {section: [{key: CODE}]}
        else:
            values = {field: CODE}
        with force_locale("en"):
            taken, problems = rules.clean(values, PROGRAMME)
        assert "the portal stores no personal codes" in str(problems[field]), field
        assert field.split("-")[0] not in taken, field  # nothing of the refused value is stored
        stored = complete()
        if "-" in field:
            stored[section][0][key] = CODE
        else:
            stored[field] = CODE
        assert field in rules.submission_problems(stored, PROGRAMME), field


def test_counts_hours_and_links_are_checked_in_a_draft(app):
    taken, problems = rules.clean(
        {
            "participants_total": "-1",
            "participants_risk": "3,5",
            "participants_grades_5_9": " 12 ",
            "risk_by_category": {"learning": "x", "unknown": "5"},
            "activities": [{"carried_out": "Darbnīca", "hours": "-2"}],
            "publicity_links": ["javascript:alert(1)", "https://ok.lv", "ftp://x.lv", "example.lv"],
        },
        PROGRAMME,
    )
    assert set(problems) == {
        "participants_total",
        "participants_risk",
        "risk_by_category-learning",
        "activities-0-hours",
        "publicity_links-0",
        "publicity_links-2",
        "publicity_links-3",
    }
    assert taken == {"participants_grades_5_9": 12}
    ok, none = rules.clean(
        {"publicity_links": ["http://a.lv/x?y=1", ""], "activities": [{"hours": "0"}, {}]}, PROGRAMME
    )
    assert none == {} and ok["publicity_links"] == ["http://a.lv/x?y=1"]
    assert ok["activities"] == [{**dict.fromkeys(rules.ACTIVITY_KEYS, ""), "hours": 0}]
    # A draft refuses only what the database would: risk above the total.
    assert rules.count_problems({"participants_total": 5, "participants_risk": 6}, PROGRAMME, complete=False)
    assert (
        rules.count_problems({"participants_total": 5, "participants_risk": 5}, PROGRAMME, complete=False)
        == {}
    )
