"""Registration numbers and bank accounts: real-looking valid and invalid values."""

from __future__ import annotations

import pytest
from stdnum import iban as std_iban
from stdnum.lv import pvn

from portal.core.privacy import contains_personal_code
from portal.organisations.validators import mask_iban_for_audit, validate_iban, validate_reg_number
from tests.factories import valid_reg_number


def latvian_iban(bank: str = "HABA", account: str = "0551012345678") -> str:
    """Build a Latvian IBAN with correct check digits."""
    bban = bank + account
    return "LV" + std_iban.calc_check_digits("LV00" + bban) + bban


@pytest.fixture(autouse=True)
def _context(app):
    with app.test_request_context():
        yield


# --- registration numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 7, 123, 9999])
def test_valid_legal_entity_numbers_are_accepted(n):
    number = valid_reg_number(n)
    assert validate_reg_number(number) == number


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("40003521600", "40003521600"),  # a real-format example from the Register of Enterprises
        ("4000 3521 600", "40003521600"),
        ("LV40003521600", "40003521600"),
        (" lv 4000-3521-600 ", "40003521600"),
    ],
)
def test_number_is_normalised(typed, expected):
    assert validate_reg_number(typed) == expected


def test_wrong_check_digit_is_refused():
    with pytest.raises(ValueError, match="not valid"):
        validate_reg_number("40003521601")


@pytest.mark.parametrize(
    "code", ["161175-19997", "16117519997", "32867300679", "010101-12345", "01010112345"]
)
def test_personal_code_is_refused_with_guidance(code):
    with pytest.raises(ValueError) as exc:
        validate_reg_number(code)
    message = str(exc.value)
    assert "personal code" in message
    assert "Register of Enterprises" in message


def test_personal_code_is_refused_even_when_valid_for_stdnum():
    # stdnum accepts personal codes as PVN numbers: the portal must not.
    assert pvn.is_valid("161175-19997")
    with pytest.raises(ValueError):
        validate_reg_number("161175-19997")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "Enter"),
        (None, "Enter"),
        ("4000352160", "11 digits"),
        ("400035216000", "11 digits"),
        ("ABC", "digits"),
    ],
)
def test_malformed_numbers(value, fragment):
    with pytest.raises(ValueError, match=fragment):
        validate_reg_number(value)


# --- IBAN -------------------------------------------------------------------------------------------------


def test_valid_latvian_iban_is_normalised():
    iban = latvian_iban()
    spaced = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)).lower()
    assert validate_iban(spaced) == iban
    assert validate_iban("LV80BANK0000435195001") == "LV80BANK0000435195001"


def test_wrong_checksum_has_its_own_message():
    iban = latvian_iban()
    broken = iban[:-1] + ("0" if iban[-1] != "0" else "1")
    with pytest.raises(ValueError, match="check digits"):
        validate_iban(broken)


@pytest.mark.parametrize(
    "foreign", ["DE89370400440532013000", "GB82WEST12345698765432", "EE382200221020145685"]
)
def test_foreign_iban_is_refused_as_not_latvian(foreign):
    assert std_iban.is_valid(foreign)
    with pytest.raises(ValueError, match="not a Latvian bank account"):
        validate_iban(foreign)


@pytest.mark.parametrize("value", ["LV80BANK000043519500", "LV80BANK00004351950011"])
def test_wrong_length(value):
    with pytest.raises(ValueError, match="21 characters"):
        validate_iban(value)


@pytest.mark.parametrize("value", ["", None, "hello", "12345678", "LV!!"])
def test_garbage_is_not_an_iban(value):
    with pytest.raises(ValueError):
        validate_iban(value)


def test_invalid_bank_code_shape():
    # Latvian BBAN: 4 letters of bank code, then 13 characters; digits in the bank code are wrong.
    bban = "1234" + "0551012345678"
    value = "LV" + std_iban.calc_check_digits("LV00" + bban) + bban
    with pytest.raises(ValueError, match="not a valid Latvian IBAN"):
        validate_iban(value)


# --- helpers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Jānis, 010101-12345", True),
        ("pk 01010112345", True),
        ("32867300679", True),
        ("Skolas iela 1, LV-5101", False),
        ("reg. nr. 40003521600", False),
        ("", False),
        (None, False),
        ("999999-12345", False),
    ],
)
def test_contains_personal_code(text, found):
    assert contains_personal_code(text) is found


def test_mask_iban_for_audit():
    assert mask_iban_for_audit("LV80BANK0000435195001") == "…5001"
    assert mask_iban_for_audit(None) is None
