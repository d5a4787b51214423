"""QUALITY A1 (password policy) and A2 (argon2id storage, upgraded on login)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from portal.accounts import passwords
from portal.accounts.models import User
from portal.extensions import db
from tests.accounts.test_register import register, user_by_email
from tests.accounts.util import audit_actions, password_step
from tests.factories import UserFactory

COMPOSITION_WORDS = (
    "uppercase",
    "lowercase",
    "digit",
    "number",
    "special",
    "symbol",
    "lielo",
    "cipar",
    "simbol",
)


def _errors(html: str) -> str:
    return " ".join(re.findall(r'class="field-error"[^>]*>(.*?)</p>', html, re.S))


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("a" * 7, False),
        ("kalns un", True),  # 8 characters with a space
        ("x" * 64, True),
        ("y" * 128, True),
        ("z" * 129, False),
        ("Password1", False),  # in the common-password list
        ("password", False),
    ],
    ids=["7", "8", "64", "128", "129", "Password1", "password"],
)
def test_password_policy_on_registration(client, password, accepted):
    response = register(client, password=password)
    html = response.get_data(as_text=True)
    created = user_by_email("jauns@example.lv") is not None
    assert created is accepted, _errors(html)
    if not accepted:
        assert response.status_code == 200
        assert 'id="password-error"' in html
        message = _errors(html).lower()
        assert not any(word in message for word in COMPOSITION_WORDS), message


@pytest.mark.parametrize(
    "password",
    ["  ar atstarpēm sākumā un beigās  ", "🐻‍❄️ lācis 🧊 uz ledus 🌊"],
    ids=["spaces", "emoji"],
)
def test_spaces_and_emoji_kept_unchanged_and_usable(client, password):
    response = register(client, password=password)
    assert response.status_code == 302
    user = user_by_email("jauns@example.lv")
    assert passwords.verify_password(user.password_hash, password)
    user.email_confirmed_at = user.created_at
    db.session.flush()
    if password.strip() != password:
        assert password_step(client, user, password.strip()).status_code == 200  # trimmed is another one
    assert password_step(client, user, password).status_code == 302


def test_policy_messages_never_state_composition_rules():
    for candidate in ("short", "Password1", "y" * 200, "letmein123"):
        problem = passwords.password_problem(candidate)
        if problem:
            assert not any(word in str(problem).lower() for word in COMPOSITION_WORDS)


@pytest.fixture()
def production_hashing(app, monkeypatch):
    """The production parameters (the test configuration lowers them for speed)."""
    from portal.config import Config

    monkeypatch.setitem(app.config, "PASSWORD_HASH_PARAMS", Config.PASSWORD_HASH_PARAMS)


def test_hash_is_argon2id_with_strong_parameters(production_hashing):
    stored = passwords.hash_password("viens divi trīs četri")
    assert stored.startswith("$argon2id$")
    params = dict(item.split("=") for item in stored.split("$")[3].split(","))
    assert int(params["m"]) >= 19456 and int(params["t"]) >= 2 and int(params["p"]) >= 1


def test_weak_hash_is_upgraded_on_login(client, production_hashing):
    weak = PasswordHasher(time_cost=1, memory_cost=8192).hash("vecā parole ar vājiem parametriem")
    user = UserFactory(password_hash=weak)
    assert passwords.needs_rehash(weak)
    response = password_step(client, user, "vecā parole ar vājiem parametriem")
    assert response.status_code == 302
    stored = db.session.scalar(sa.select(User.password_hash).where(User.id == user.id))
    assert stored != weak and not passwords.needs_rehash(stored)
    assert "$argon2id$v=19$m=65536,t=3,p=4$" in stored
    assert "password_rehashed" in audit_actions(user)


def test_production_refuses_parameters_below_the_minimum(monkeypatch):
    from portal.config import Config, ConfigError

    monkeypatch.setattr(Config, "SECRET_KEY", "x" * 40)
    monkeypatch.setattr(Config, "PASSWORD_HASH_PARAMS", {"memory_cost": 8192})
    with pytest.raises(ConfigError, match="PASSWORD_HASH_PARAMS"):
        Config.validate()
    monkeypatch.setattr(Config, "PASSWORD_HASH_PARAMS", {"memory_cost": 19456, "time_cost": 2})
    Config.validate()
