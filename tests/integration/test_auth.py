from tests.helpers import csrf_token


def test_cli_creates_a_user_who_can_log_in(runner, auth):
    result = runner.invoke(args=["user", "create", "max", "--role", "manager", "--password", "s3cret-pass"])
    assert result.exit_code == 0, result.output
    auth.login("max", "s3cret-pass", create=False)


def test_cli_refuses_a_short_password(runner):
    result = runner.invoke(args=["user", "create", "max", "--role", "manager", "--password", "short"])
    assert result.exit_code != 0 and "at least 8" in result.output


def test_wrong_password_is_refused(client, auth):
    auth.create()
    response = client.post("/login", data={"username": "dana", "password": "wrong",
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 401 and b"Wrong username or password" in response.data


def test_login_form_without_csrf_token_is_refused(client, auth):
    auth.create()
    response = client.post("/login", data={"username": "dana", "password": "correct horse"})
    assert response.status_code == 400


def test_passwords_are_stored_hashed(app, auth):
    from app.extensions import db
    from app.models import User

    auth.create()
    with app.app_context():
        stored = db.session.query(User).filter_by(username="dana").one().password_hash
    assert "correct horse" not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


# --- a signed-out live page is told why (GET /session, static/js/app.js) ----------------

def _login_page_after(client, answer) -> str:
    assert answer.status_code in (302, 401)
    target = answer.headers.get("HX-Redirect") or answer.headers["Location"]
    assert "/login" in target
    return client.get(target).get_data(as_text=True)


def test_the_session_check_answers_204_while_signed_in(auth, client):
    auth.login()
    assert client.get("/session", headers={"HX-Request": "true"}).status_code == 204


def test_a_disabled_accounts_live_page_is_sent_to_login_saying_why(app, auth, client):
    from app.services import accounts
    from app.extensions import db

    auth.login("nia")
    with app.app_context():
        accounts.set_enabled(accounts.find("nia"), False)
        db.session.commit()
    answer = client.get("/session", headers={"HX-Request": "true", "HX-Current-URL": "http://x/stores"})
    assert answer.status_code == 401 and answer.headers["HX-Redirect"] == "/login?next=/stores"
    assert "Your account was disabled" in _login_page_after(client, answer)


def test_an_ended_session_is_sent_to_login_saying_why(app, auth, client):
    from app.services import accounts
    from app.extensions import db

    auth.login("nia")
    with app.app_context():
        accounts.set_password(accounts.find("nia"), "brand new pw")
        db.session.commit()
    page = _login_page_after(client, client.get("/couriers"))  # a plain page load says it too
    assert "Your session ended" in page and "sign in again" in page
    assert page.count("Your session ended") == 1


def test_a_never_signed_in_visitor_gets_the_usual_message(client):
    answer = client.get("/session", headers={"HX-Request": "true"})
    assert answer.status_code == 401
    page = _login_page_after(client, answer)
    assert "disabled" not in page and "session ended" not in page
