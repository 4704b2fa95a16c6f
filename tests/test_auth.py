"""Signing in and out through the real app, with real CSRF tokens: redirects, cookies, wrong
passwords, the failed-login limit, logout, deleted accounts, password storage."""

from __future__ import annotations

import html
import itertools
import json
import re
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select

from issuer import create_app
from issuer.models import LoginFailure, User
from issuer.people.accounts import DEMO_ACCOUNTS, hash_password
from issuer.people.auth import LOGIN_FAILED, MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS, authenticate

from app_support import clean_environment, initialised_app, module_config

PASSWORD = "correct horse battery staple"
WRONG = "Tr0ub4dor&3-but-wrong"
ADMIN_PAGE = "/admin/catalog"  # any page for signed-in admins; it sends others to /login
Account = Callable[..., str]  # the `account` fixture: account(*roles) -> email


# --- one initialised app for the module -------------------------------------------------------



@pytest.fixture(scope="module")
def app_config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The configuration of the module's instance and database (initialised by `app`)."""
    return module_config(tmp_path_factory, "auth")


@pytest.fixture(scope="module")
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    """One initialised app for the whole module (overrides conftest's per-test `app`: `microcred
    init` costs about a second). Tests stay apart by using their own accounts; failures are cleared."""
    with clean_environment():
        application = initialised_app(app_config)
    yield application
    application.extensions["microcred"].database.dispose()


@pytest.fixture(scope="module")
def account(app: Flask) -> Account:
    """Factory: account(*roles) -> the email of a new account with PASSWORD."""
    digest = hash_password(PASSWORD)  # once: argon2id is slow on purpose
    numbers = itertools.count(1)

    def make(*roles: str) -> str:
        email = f"person{next(numbers)}@auth-tests.example"
        with _db(app) as session:
            session.add(User(email=email, display_name="Test Person", roles=list(roles), password_hash=digest))
        return email

    return make


@pytest.fixture(autouse=True)
def _no_failed_logins(app: Flask) -> None:
    """Every test starts below the limits (all tests sign in from the test client's one address)."""
    with _db(app) as session:
        session.execute(delete(LoginFailure))


def _db(app: Flask):
    return app.extensions["microcred"].database.transaction()


def _csrf(client: FlaskClient, url: str = "/login") -> str:
    page = client.get(url).get_data(as_text=True)
    tokens = re.findall(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page)
    assert tokens, page
    return html.unescape(tokens[0])  # every form of a session carries an equally good token


def _sign_in(client: FlaskClient, email: str, password: str = PASSWORD, *, url: str = "/login"):
    """POST the sign-in form as a browser does: token from the form page, then the credentials."""
    response = client.post(url, data={"csrf_token": _csrf(client, url), "email": email, "password": password})
    _assert_no_password(response)
    return response


def _assert_no_password(response) -> None:
    answer = response.get_data(as_text=True) + str(response.headers)
    for password in (PASSWORD, WRONG):
        assert password not in answer and html.escape(password) not in answer


def _signed_in_as(client: FlaskClient) -> int | None:
    with client.session_transaction() as session:
        return session.get("user_id")


def _error_shown(response) -> str:
    match = re.search(r'<(\w+)[^>]*role="alert"[^>]*>(.*?)</\1>', response.get_data(as_text=True), re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]*>", " ", match.group(2)).split())) if match else ""


def _failures(app: Flask) -> int:
    with _db(app) as session:
        return session.scalar(select(func.count()).select_from(LoginFailure))


# --- signing in -------------------------------------------------------------------------------


def test_sign_in_goes_home_and_starts_a_session(app: Flask, client: FlaskClient, account: Account) -> None:
    email = account("admin")
    assert client.get(ADMIN_PAGE).status_code == 302
    response = _sign_in(client, email.upper())  # emails compare without case
    assert (response.status_code, response.headers["Location"]) == (302, "/")
    with _db(app) as session:
        user_id = session.scalar(select(User.id).where(User.email == email))
    assert _signed_in_as(client) == user_id
    assert client.get(ADMIN_PAGE).status_code == 200


@pytest.mark.parametrize("target", ["/admin/catalog", "/admin/catalog/thinking-creative/edit?from=list"])
def test_sign_in_returns_to_a_local_next(client: FlaskClient, account: Account, target: str) -> None:
    email = account("admin")
    url = client.get(target).headers["Location"]  # what the admin page sends an anonymous visitor to
    assert urlsplit(url).path == "/login"
    response = _sign_in(client, email, url=url)
    assert (response.status_code, response.headers["Location"]) == (302, target)


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example", "///evil.example",
                                    "https:evil.example", "javascript:alert(1)", "evil.example"])
def test_sign_in_never_redirects_off_site(client: FlaskClient, account: Account, target: str) -> None:
    email = account("teacher")
    response = _sign_in(client, email, url="/login?" + urlencode({"next": target}))
    assert (response.status_code, response.headers["Location"]) == (302, "/")


@pytest.mark.parametrize("target", ["/\\evil.example", "/\t/evil.example", "/%2F%2Fevil.example"])
def test_sign_in_redirect_stays_on_site_however_next_is_spelt(client: FlaskClient, account: Account,
                                                              target: str) -> None:
    email = account("teacher")
    response = _sign_in(client, email, url="/login?" + urlencode({"next": target}))
    location = response.headers["Location"]
    # What a browser makes of it: tabs and newlines dropped, backslashes read as slashes.
    as_a_browser_reads_it = re.sub(r"[\t\r\n]", "", location).replace("\\", "/")
    parts = urlsplit(as_a_browser_reads_it)
    assert response.status_code == 302
    assert not parts.scheme and not parts.netloc and as_a_browser_reads_it.startswith("/"), location


def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1, response.headers
    return cookies[0]


def _attributes(cookie: str) -> set[str]:
    return {part.strip().lower() for part in cookie.split(";")[1:]}


def test_session_cookie_is_http_only_and_same_site_lax(client: FlaskClient, account: Account) -> None:
    response = _sign_in(client, account("teacher"))
    attributes = _attributes(_session_cookie(response))
    assert {"httponly", "samesite=lax"} <= attributes
    assert "secure" not in attributes  # no https base URL: it would never be sent over plain http


def test_session_cookie_is_secure_when_served_over_https(app_config: dict[str, Any], account: Account) -> None:
    email = account("teacher")
    secure_app = create_app({**app_config, "base_url": "https://badges.example.gov"})  # same instance and database
    try:
        response = _sign_in(secure_app.test_client(), email)
    finally:
        secure_app.extensions["microcred"].database.dispose()
    assert response.status_code == 302
    assert {"httponly", "samesite=lax", "secure"} <= _attributes(_session_cookie(response))


def test_wrong_password_is_401_with_a_message_and_no_session(client: FlaskClient, account: Account) -> None:
    email = account("admin")
    response = _sign_in(client, email, WRONG)
    assert response.status_code == 401
    assert _error_shown(response) == LOGIN_FAILED
    assert f'value="{email}"' in response.get_data(as_text=True)  # the email is kept, the password is not
    assert _signed_in_as(client) is None
    assert client.get(ADMIN_PAGE).status_code == 302


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client: FlaskClient, account: Account) -> None:
    wrong_password = _sign_in(client, account("admin"), WRONG)
    unknown = _sign_in(client, "nobody@auth-tests.example", WRONG)
    assert unknown.status_code == wrong_password.status_code == 401
    assert _error_shown(unknown) == _error_shown(wrong_password) == LOGIN_FAILED
    assert _signed_in_as(client) is None


def test_empty_form_is_400_with_a_message(client: FlaskClient) -> None:
    response = client.post("/login", data={"csrf_token": _csrf(client), "email": "", "password": ""})
    assert response.status_code == 400
    assert "Enter your email address and password" in _error_shown(response)


def test_sign_in_without_csrf_token_is_400_and_signs_nobody_in(app: Flask, client: FlaskClient,
                                                               account: Account) -> None:
    email = account("admin")
    client.get("/login")
    for token in ({}, {"csrf_token": "forged"}):
        response = client.post("/login", data={"email": email, "password": PASSWORD, **token})
        assert response.status_code == 400
        _assert_no_password(response)
        assert _signed_in_as(client) is None
    other = app.test_client()  # a token of another session is no good either
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": _csrf(other)})
    assert response.status_code == 400
    assert _signed_in_as(client) is None
    assert client.get(ADMIN_PAGE).status_code == 302
    assert _failures(app) == 0  # refused before the password is looked at


# --- the failed-login limit -------------------------------------------------------------------


def test_sixth_attempt_after_five_failures_is_429_even_with_the_right_password(app: Flask, client: FlaskClient,
                                                                               account: Account) -> None:
    email = account("admin")
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        assert _sign_in(client, email, WRONG).status_code == 401
    response = _sign_in(client, email)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in _error_shown(response)
    assert _signed_in_as(client) is None
    assert client.get(ADMIN_PAGE).status_code == 302

    other = account("admin")  # same address, another account: unaffected
    assert _sign_in(app.test_client(), other).status_code == 302


def test_failures_count_for_the_account_whatever_the_email_case(client: FlaskClient, account: Account) -> None:
    email = account("admin")
    for spelling in (email, email.upper(), f"  {email}", email.title(), email):
        assert _sign_in(client, spelling, WRONG).status_code == 401
    assert _sign_in(client, email).status_code == 429


def test_success_clears_the_accounts_failures(app: Flask, account: Account) -> None:
    email = account("admin")
    for _round in range(2):
        client = app.test_client()
        for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
            assert _sign_in(client, email, WRONG).status_code == 401
        assert _sign_in(client, email).status_code == 302  # without the reset, the second round is refused


def test_failures_older_than_the_window_do_not_count(app: Flask, client: FlaskClient, account: Account) -> None:
    now = datetime.now(UTC)
    stale, recent = account("admin"), account("admin")
    with _db(app) as session:
        for _ in range(MAX_FAILURES_PER_ACCOUNT):
            assert authenticate(session, stale, WRONG, address="127.0.2.1", now=now - timedelta(minutes=16)) is None
            assert authenticate(session, recent, WRONG, address="127.0.2.2", now=now - timedelta(minutes=14)) is None
    assert _sign_in(client, stale).status_code == 302
    assert _sign_in(app.test_client(), recent).status_code == 429


def _client_at(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_thirty_failures_from_one_address_lock_that_address_only(app: Flask, account: Account) -> None:
    email = account("admin")
    attacker = _client_at(app, "127.0.113.9")
    for n in range(MAX_FAILURES_PER_ADDRESS):
        assert _sign_in(attacker, f"guess{n}@auth-tests.example", WRONG).status_code == 401
    response = _sign_in(attacker, email)
    assert response.status_code == 429 and "Too many failed sign-ins" in _error_shown(response)
    colleague = _client_at(app, "127.0.113.10")
    assert _sign_in(colleague, email).status_code == 302


# --- signing out and losing the account ---------------------------------------------------------


def test_logout_is_post_only_needs_csrf_and_clears_the_session(client: FlaskClient, account: Account) -> None:
    assert _sign_in(client, account("admin")).status_code == 302
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get(ADMIN_PAGE).status_code == 200  # still signed in

    response = client.post("/logout", data={"csrf_token": _csrf(client)})
    assert (response.status_code, response.headers["Location"]) == (302, "/")
    assert _signed_in_as(client) is None
    response = client.get(ADMIN_PAGE)
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


def test_a_session_cookie_copied_before_logout_no_longer_works(client: FlaskClient, account: Account) -> None:
    assert _sign_in(client, account("admin")).status_code == 302
    stolen = client.get_cookie("session").value
    assert client.post("/logout", data={"csrf_token": _csrf(client)}).status_code == 302
    client.set_cookie("session", stolen)
    assert client.get(ADMIN_PAGE).status_code == 302


def test_deleted_or_demoted_user_is_no_longer_authenticated(app: Flask, account: Account) -> None:
    demoted, deleted = app.test_client(), app.test_client()
    demoted_email, deleted_email = account("admin"), account("admin")
    assert _sign_in(demoted, demoted_email).status_code == 302
    assert _sign_in(deleted, deleted_email).status_code == 302
    assert demoted.get(ADMIN_PAGE).status_code == deleted.get(ADMIN_PAGE).status_code == 200

    with _db(app) as session:
        session.scalars(select(User).where(User.email == demoted_email)).one().roles = ["teacher"]
        session.delete(session.scalars(select(User).where(User.email == deleted_email)).one())

    assert demoted.get(ADMIN_PAGE).status_code == 403  # roles are read on every request
    response = deleted.get(ADMIN_PAGE)
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"
    assert _signed_in_as(deleted) is None


# --- stored passwords -------------------------------------------------------------------------


def test_demo_passwords_are_stored_as_argon2id_and_sign_in(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["init", "--demo"])
    assert result.exit_code == 0, (result.output, result.exception)
    logins_file = app.extensions["microcred"].settings.secrets_dir / "demo-logins.json"
    assert stat.S_IMODE(logins_file.stat().st_mode) == 0o600
    passwords = json.loads(logins_file.read_text())
    assert set(passwords) == {email for email, _name, _roles in DEMO_ACCOUNTS}

    with _db(app) as session:
        for email, _name, roles in DEMO_ACCOUNTS:
            user = session.scalars(select(User).where(User.email == email)).one()
            assert user.roles == roles
            assert user.password_hash.startswith("$argon2id$")
            assert passwords[email] not in user.password_hash

    admin_email = next(email for email, _name, roles in DEMO_ACCOUNTS if "admin" in roles)
    client = app.test_client()
    response = client.post("/login", data={"csrf_token": _csrf(client), "email": admin_email,
                                           "password": passwords[admin_email]})
    assert response.status_code == 302
    assert passwords[admin_email] not in response.get_data(as_text=True)
    page = client.get(ADMIN_PAGE)
    assert page.status_code == 200
    assert not any(p in page.get_data(as_text=True) for p in passwords.values())

    again = app.test_cli_runner().invoke(args=["init", "--demo"])  # idempotent: the same logins
    assert again.exit_code == 0 and json.loads(logins_file.read_text()) == passwords
