"""/login and /logout as an attacker uses them (contract §3.6): redirects after login stay on
this site, an unknown username costs the same password hash as a wrong password, an
expired form or a mangled `next` gets the form back (never a 500), and logging out ends
the session on the server, not only in the browser."""
import pytest

from app.services import accounts
from app.extensions import db
from tests.helpers import Auth, csrf_token


def signed_in(client) -> bool:
    return client.get("/session", headers={"HX-Request": "true"}).status_code == 204


# --- redirects after login ----------------------------------------------------------------

OFF_SITE = {
    "tab-then-slashes": "?next=/%09/evil.example/x",
    "crlf-header-split": "?next=/%0d%0aSet-Cookie:%20pwned=1",
    "protocol-relative": "?next=//evil.example/x",
    "backslash": "?next=/%5Cevil.example/x",
    "absolute-url": "?next=https://evil.example/x",
    "javascript": "?next=javascript:alert(1)",
    "encoded-slashes": "?next=%2F%2Fevil.example",
    "space-then-slashes": "?next=%20//evil.example",
    "nul": "?next=/stores%00",
    "right-to-left-mark": "?next=/%E2%80%AE//evil.example",
}


@pytest.mark.parametrize("query", OFF_SITE.values(), ids=OFF_SITE.keys())
def test_a_redirect_after_login_never_leaves_the_site(auth, client, query):
    auth.create()
    answer = auth.attempt(query=query)
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/"  # the board, nothing else
    assert "pwned" not in str(answer.headers)


def test_an_on_site_next_is_followed_after_login(auth, client):
    auth.create()
    answer = auth.attempt(query="?next=/stores%3Fq%3Dnorth")
    assert answer.status_code == 303 and answer.headers["Location"] == "/stores?q=north"


@pytest.mark.parametrize("query", [OFF_SITE["crlf-header-split"], OFF_SITE["nul"], OFF_SITE["tab-then-slashes"]],
                         ids=["crlf", "nul", "tab"])
def test_a_next_with_a_control_character_gets_the_form_with_a_message(client, query):
    answer = client.get("/login" + query)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'name="password"' in page
    assert "pointed off this site" in page
    assert 'action="/login"' in page  # the form does not carry the bad target on


def test_a_wrong_password_with_a_mangled_next_gets_the_form_not_a_500(auth, client):
    auth.create()
    answer = auth.attempt(password="wrong", query=OFF_SITE["crlf-header-split"])
    assert answer.status_code == 401 and "Wrong username or password" in answer.get_data(as_text=True)
    assert not signed_in(client)


# --- an expired or missing form token -----------------------------------------------------

def test_a_login_form_whose_session_expired_gets_the_form_back_and_signs_nobody_in(app, auth, client,
                                                                                  password_checks):
    """The form was loaded in another session (the browser was restarted, the cookie
    expired): its token belongs to no session now."""
    auth.create()
    stale_token = csrf_token(app.test_client())
    answer = client.post("/login", data={"username": "dana", "password": "correct horse",
                                         "csrf_token": stale_token})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and 'name="password"' in page
    assert "login form had expired" in page
    assert not signed_in(client) and password_checks == []  # nothing was even checked


def test_a_login_form_without_its_token_gets_the_form_back(auth, client, password_checks):
    auth.create()
    answer = client.post("/login", data={"username": "dana", "password": "correct horse"})
    assert answer.status_code == 400 and "login form had expired" in answer.get_data(as_text=True)
    assert not signed_in(client) and password_checks == []


# --- an unknown username costs what a wrong password costs -------------------------------

def _stored_hash(app, username="dana") -> str:
    with app.app_context():
        return accounts.find(username).password_hash


def _parameters(stored_hash: str) -> str:
    return stored_hash.split("$")[0]  # "scrypt:32768:8:1": method and cost


def test_an_unknown_username_costs_one_password_hash_made_like_a_real_one(app, auth, client, password_checks):
    auth.create()
    answer = auth.attempt(username="nobody-here", password="guess")
    assert answer.status_code == 401 and "Wrong username or password" in answer.get_data(as_text=True)
    assert len(password_checks) == 1 and password_checks[0][1] == "guess"
    assert _parameters(password_checks[0][0]) == _parameters(_stored_hash(app))
    assert not signed_in(client)


def test_a_wrong_password_costs_the_same_one_hash(app, auth, client, password_checks):
    auth.create()
    assert auth.attempt(password="guess").status_code == 401
    assert [stored for stored, _ in password_checks] == [_stored_hash(app)]


def test_a_disabled_account_costs_one_hash_too_and_does_not_sign_in(app, auth, client, password_checks):
    auth.create()
    with app.app_context():
        accounts.set_enabled(accounts.find("dana"), False)
        db.session.commit()
    answer = auth.attempt()  # even with the right password
    assert answer.status_code == 401 and len(password_checks) == 1
    dummy = password_checks[0][0]
    assert _parameters(dummy) == _parameters(_stored_hash(app)) and dummy != _stored_hash(app)
    assert not signed_in(client)


# --- logging out ends the session on the server ------------------------------------------

def _copy_of_session(app, client):
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_a_session_cookie_copied_before_logout_no_longer_opens_the_board(app, auth, client):
    auth.login()
    thief = _copy_of_session(app, client)
    assert thief.get("/").status_code == 200  # the copy works while the session lasts
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/")}).status_code == 303
    answer = thief.get("/")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    assert not signed_in(thief)


def test_logging_out_ends_the_accounts_other_sessions_too(app, auth, client):
    """The choice for a control room of personal accounts: leaving means nothing stays
    signed in under your name (the audit log's "staff:dana"), e.g. a board on another screen."""
    auth.login()
    other_screen = app.test_client()
    Auth(app, other_screen).login(create=False)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert not signed_in(other_screen)
    auth.login(create=False)  # and a new login works as before
    assert signed_in(client)


@pytest.mark.parametrize("app_config", [{"REDIS_URL": None}], ids=["in-process"])  # the socket test client
def test_logging_out_closes_the_open_board_socket_of_a_copied_session(app, auth, client):
    from app.extensions import socketio

    auth.login()
    thief = _copy_of_session(app, client)
    board = socketio.test_client(app, flask_test_client=thief)
    assert board.is_connected()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert not board.is_connected()  # closed by the logout's own sweep
