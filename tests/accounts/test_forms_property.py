"""QUALITY D2 for the account forms: random unicode never gives a server error."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import csrf_token

text = st.text(max_size=300)
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(full_name=text, email=text, password=text, repeat=text, language=text, consent=text, next_=text)
def test_register_never_500(client, full_name, email, password, repeat, language, consent, next_):
    token = csrf_token(client, "/account/register")
    data = {
        "csrf_token": token,
        "full_name": full_name,
        "email": email,
        "password": password,
        "password_repeat": repeat,
        "language": language,
        "consent": consent,
        "next": next_,
    }
    response = client.post("/account/register", data=data)
    assert response.status_code in (200, 302)


@SETTINGS
@given(email=text, password=text, next_=text)
def test_login_never_500(client, email, password, next_):
    token = csrf_token(client, "/account/login")
    response = client.post(
        "/account/login", data={"csrf_token": token, "email": email, "password": password, "next": next_}
    )
    assert response.status_code in (200, 302, 429)


@SETTINGS
@given(email=text)
def test_reset_and_resend_never_500(client, email):
    token = csrf_token(client, "/account/reset")
    assert client.post("/account/reset", data={"csrf_token": token, "email": email}).status_code in (200, 302)
    assert client.post("/account/confirm/resend", data={"csrf_token": token, "email": email}).status_code in (
        200,
        302,
    )


@SETTINGS
@given(token=st.text(min_size=1, max_size=300).filter(lambda t: "/" not in t and t not in (".", "..")))
def test_token_links_never_500(client, token):
    assert client.get(f"/account/confirm/{token}").status_code in (404, 308)
    assert client.get(f"/account/reset/{token}").status_code in (404, 308)
