from tests.conftest import csrf_token


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
