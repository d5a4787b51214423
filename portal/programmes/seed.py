"""The PuMPuRS youth initiative programme with the defaults of DESIGN §2 and its criteria (issue 3)."""

from datetime import date
from decimal import Decimal

PUMPURS = {
    "code": "pumpurs-jip",
    "name_lv": "PuMPuRS jauniešu iniciatīvu projekti",
    "name_en": "PuMPuRS youth initiative projects",
    "operator": "Izglītības kvalitātes valsts dienests (IKVD)",
    "period_start": date(2017, 1, 1),
    "period_end": date(2029, 12, 31),
    "funding_mode": "fixed",
    "amount": Decimal("4600.00"),
    "min_months": 3,
    "max_months": 18,
    "min_risk_share": Decimal("10.00"),
    "grade_min": 5,
    "grade_max": 12,
    "vocational_min": 1,
    "vocational_max": 4,
    "eligible_legal_forms": ["youth_organisation", "association", "foundation", "initiative_group"],
    "risk_categories": [
        {"code": "learning", "lv": "Mācību un skolas vides riski", "en": "Learning and school"},
        {"code": "social", "lv": "Sociālās vides un veselības riski", "en": "Social environment and health"},
        {"code": "economic", "lv": "Ekonomiskie riski", "en": "Economic"},
        {"code": "family", "lv": "Ģimenes riski", "en": "Family"},
    ],
    "advance_percent": Decimal("80.00"),
    "min_call_window_days": 30,
    "report_due_working_days": 10,
    "report_review_working_days": 10,
    "pass_share": Decimal("50.00"),
}


def _levels(l0, l1, l2, l3):
    """Four level descriptors as {"0": {"lv", "en"}, ...}; each argument is a (lv, en) pair."""
    return {str(i): {"lv": lv, "en": en} for i, (lv, en) in enumerate((l0, l1, l2, l3))}


ADMINISTRATIVE = [
    ("on_time", "Pieteikums iesniegts termiņā", "Submitted before the deadline", "on_time"),
    (
        "complete",
        "Pieteikuma veidlapa aizpildīta pilnībā, pievienoti visi pielikumi",
        "The form is complete and every annex is attached",
        None,
    ),
    (
        "signed",
        "Pieteikumu iesniedzis pretendenta pārstāvis ar paraksta tiesībām",
        "Submitted by a representative entitled to sign",
        None,
    ),
    (
        "amount",
        "Pieprasītais finansējums atbilst noteiktajai summai",
        "The amount requested is the fixed amount",
        "amount",
    ),
]

ELIGIBILITY = [
    (
        "applicant_type",
        "Pretendents ir jaunatnes organizācija, biedrība vai nodibinājums, kas veic darbu ar "
        "jaunatni, vai jauniešu iniciatīvu grupa ar šādu pārstāvi",
        "The applicant is an eligible youth organisation, association, foundation or represented youth group",
        "applicant_type",
    ),
    (
        "duration",
        "Projekta ilgums ir 3–18 mēneši un iekļaujas programmas periodā",
        "The project lasts 3–18 months within the programme period",
        "duration",
    ),
    (
        "risk_share",
        "Vismaz 10 % dalībnieku ir PMP riska grupas izglītojamie",
        "At least 10 % of participants are learners at risk of early school leaving",
        "risk_share",
    ),
    (
        "target_group",
        "Mērķa grupa ir 5.–12. klašu un profesionālās izglītības 1.–4. kursu izglītojamie",
        "The target group is grades 5–12 and vocational courses 1–4",
        "grades",
    ),
    (
        "plan_link",
        "Aktivitātes ir neformālā izglītība un saistītas ar pašvaldības PMP prevencijas plānu",
        "Activities are non-formal education linked to the municipality's PMP prevention plan",
        None,
    ),
]

QUALITY = [
    # code, lv, en, weight, essential, tie-break order, levels
    (
        "relevance",
        "Atbilstība PMP riskiem un pašvaldības prevencijas plānam",
        "Relevance to PMP risks and the municipal prevention plan",
        "2.00",
        True,
        2,
        _levels(
            ("Nav saistības ar PMP riskiem vai plānu", "No link to PMP risks or the plan"),
            ("Saistība minēta, bet nav pamatota", "A link is stated but not explained"),
            ("Saistība pamatota ar konkrētu plāna aktivitāti", "A clear link to a plan activity"),
            (
                "Pārliecinoši pamatota ar datiem par vietējiem PMP riskiem",
                "Convincingly based on local evidence of PMP risks",
            ),
        ),
    ),
    (
        "youth_led",
        "Jauniešu iniciatīva: jaunieši, t. sk. PMP riska jaunieši, plāno un īsteno projektu",
        "Youth-led: young people, incl. those at risk, plan and run it",
        "2.00",
        True,
        1,
        _levels(
            ("Projektu veido pieaugušie jauniešu vietā", "Adults run the project for young people"),
            ("Jaunieši iesaistīti tikai kā dalībnieki", "Young people take part only as participants"),
            ("Jaunieši plāno un vada daļu aktivitāšu", "Young people plan and lead some activities"),
            (
                "Jaunieši, t. sk. riska grupas, vada visu projektu",
                "Young people, including those at risk, lead the whole project",
            ),
        ),
    ),
    (
        "activities",
        "Aktivitāšu kvalitāte un loģika, neformālās izglītības metodes",
        "Quality and logic of activities, non-formal methods",
        "2.00",
        True,
        None,
        _levels(
            (
                "Aktivitātes nav aprakstītas vai nav neformālā izglītība",
                "Activities missing or not non-formal education",
            ),
            ("Aktivitātes vāji saistītas ar mērķi", "Activities weakly linked to the aim"),
            ("Loģiska aktivitāšu secība ar piemērotām metodēm", "A logical sequence with suitable methods"),
            ("Izcili pārdomātas, daudzveidīgas neformālās metodes", "Excellent, varied non-formal methods"),
        ),
    ),
    (
        "reach",
        "PMP riska izglītojamo piesaiste un noturēšana",
        "Reaching and keeping learners at risk",
        "1.50",
        False,
        None,
        _levels(
            ("Nav aprakstīts", "Not described"),
            ("Vispārīgi", "General statements"),
            ("Konkrēti piesaistes veidi", "Concrete ways to reach them"),
            (
                "Konkrēti piesaistes un noturēšanas pasākumi ar partneriem",
                "Concrete outreach and retention with partners",
            ),
        ),
    ),
    (
        "results",
        "Izmērāmi rezultāti",
        "Measurable results",
        "1.00",
        False,
        None,
        _levels(
            ("Rezultāti nav noteikti", "No results defined"),
            ("Rezultāti nav izmērāmi", "Results not measurable"),
            ("Izmērāmi rezultāti", "Measurable results"),
            ("Izmērāmi rezultāti ar sākumstāvokli un datu avotu", "Measurable with baseline and data source"),
        ),
    ),
    (
        "realism",
        "Laika plāna un izmaksu sadalījuma reālistiskums",
        "Realism of timetable and budget breakdown",
        "1.00",
        False,
        None,
        _levels(
            ("Nereāls", "Unrealistic"),
            ("Daļēji reāls", "Partly realistic"),
            ("Reāls", "Realistic"),
            ("Reāls un detalizēts", "Realistic and detailed"),
        ),
    ),
    (
        "capacity",
        "Pretendenta un partneru kapacitāte",
        "Applicant and partner capacity",
        "0.50",
        False,
        None,
        _levels(
            ("Nav pieredzes un partneru", "No experience or partners"),
            ("Neliela pieredze", "Little experience"),
            ("Pieredze darbā ar jauniešiem", "Experience in youth work"),
            (
                "Pieredze un stipri partneri, t. sk. skolas",
                "Experience and strong partners, schools included",
            ),
        ),
    ),
]

TEXTS = {
    ("regulations", "lv"): (
        "Jauniešu iniciatīvu projektu konkursa nolikums\n\n"
        "1. Konkursu izsludina {{ municipality }}. Finansējums vienam projektam ir {{ amount }} (vienreizējs "
        "maksājums — ne vairāk un ne mazāk).\n"
        "2. Projekta ilgums ir {{ min_months }}–{{ max_months }} mēneši.\n"
        "3. Vismaz {{ min_risk_share }} % dalībnieku ir PMP riska grupas izglītojamie.\n"
        "4. Pieteikumu iesniegšanas termiņš: {{ deadline }}."
    ),
    ("regulations", "en"): (
        "Regulations of the youth initiative project competition\n\n"
        "1. The call is opened by {{ municipality }}. Each project receives {{ amount }} as a lump sum.\n"
        "2. A project lasts {{ min_months }}–{{ max_months }} months.\n"
        "3. At least {{ min_risk_share }} % of participants are learners at risk of early school leaving.\n"
        "4. Deadline for applications: {{ deadline }}."
    ),
    ("contract", "lv"): "Līgums par jauniešu iniciatīvas projekta īstenošanu",
    ("contract", "en"): "Contract for the implementation of a youth initiative project",
}


def criteria_rows():
    """Yield the criterion templates as dictionaries, in display order."""
    position = 0
    for kind, rows in (("administrative", ADMINISTRATIVE), ("eligibility", ELIGIBILITY)):
        for code, lv, en, auto in rows:
            position += 1
            yield {
                "kind": kind,
                "code": code,
                "position": position,
                "title_lv": lv,
                "title_en": en,
                "weight": Decimal("0"),
                "essential": True,
                "auto_check": auto,
                "levels": {},
            }
    for code, lv, en, weight, essential, tie, levels in QUALITY:
        position += 1
        yield {
            "kind": "quality",
            "code": code,
            "position": position,
            "title_lv": lv,
            "title_en": en,
            "weight": Decimal(weight),
            "essential": essential,
            "tie_break_order": tie,
            "levels": levels,
        }
