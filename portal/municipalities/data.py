"""The 43 Latvian municipalities since 1 July 2021 (36 novadi, 7 valstspilsētas) with their ATVK codes.

Source: Administratīvo teritoriju un teritoriālo vienību klasifikators (ATVK), edition in force from
2021-07-01. A merger is recorded as data: close the old row's `valid_to`, add the new one.
"""

from datetime import date

REFORM_DATE = date(2021, 7, 1)

VALSTSPILSETAS = [
    ("0001000", "Rīga"),
    ("0002000", "Daugavpils"),
    ("0003000", "Jelgava"),
    ("0004000", "Jūrmala"),
    ("0005000", "Liepāja"),
    ("0006000", "Rēzekne"),
    ("0007000", "Ventspils"),
]

NOVADI = [
    ("0020000", "Aizkraukles novads"),
    ("0021000", "Alūksnes novads"),
    ("0022000", "Augšdaugavas novads"),
    ("0023000", "Ādažu novads"),
    ("0024000", "Balvu novads"),
    ("0025000", "Bauskas novads"),
    ("0026000", "Cēsu novads"),
    ("0027000", "Dienvidkurzemes novads"),
    ("0028000", "Dobeles novads"),
    ("0029000", "Gulbenes novads"),
    ("0030000", "Jelgavas novads"),
    ("0031000", "Jēkabpils novads"),
    ("0032000", "Krāslavas novads"),
    ("0033000", "Kuldīgas novads"),
    ("0034000", "Ķekavas novads"),
    ("0035000", "Limbažu novads"),
    ("0036000", "Līvānu novads"),
    ("0037000", "Ludzas novads"),
    ("0038001", "Madonas novads"),
    ("0039000", "Mārupes novads"),
    ("0040000", "Ogres novads"),
    ("0041000", "Olaines novads"),
    ("0042000", "Preiļu novads"),
    ("0043000", "Rēzeknes novads"),
    ("0044000", "Ropažu novads"),
    ("0045000", "Salaspils novads"),
    ("0046000", "Saldus novads"),
    ("0047000", "Saulkrastu novads"),
    ("0048000", "Siguldas novads"),
    ("0049000", "Smiltenes novads"),
    ("0051000", "Talsu novads"),
    ("0052000", "Tukuma novads"),
    ("0053000", "Valkas novads"),
    ("0054000", "Valmieras novads"),
    ("0055000", "Varakļānu novads"),
    ("0056000", "Ventspils novads"),
]


def rows() -> list[dict]:
    """Return the rows to insert, as dictionaries."""
    out = [
        {"code": c, "name": n, "kind": "valstspilseta", "valid_from": REFORM_DATE, "valid_to": None}
        for c, n in VALSTSPILSETAS
    ]
    out += [
        {"code": c, "name": n, "kind": "novads", "valid_from": REFORM_DATE, "valid_to": None}
        for c, n in NOVADI
    ]
    return out
