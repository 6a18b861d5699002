"""/users (admin): add staff, disable and enable them; a disabled account's sessions stop."""
import pytest

from app.extensions import db
from app.models import User
from tests.helpers import csrf_token

pytestmark = pytest.mark.usefixtures("fast_passwords")  # many logins per module


def user_id(app, username) -> int:
    with app.app_context():
        return db.session.query(User).filter_by(username=username).one().id


def test_an_admin_adds_a_dispatcher_who_can_then_log_in(app, staff, auth):
    staff.login("admin")
    response = staff.post("/users", {"username": "nia", "role": "dispatcher", "password": "long enough"})
    assert response.status_code == 303
    page = staff.get("/users").get_data(as_text=True)
    assert 'data-user="nia"' in page and "Added dispatcher nia." in page
    with app.app_context():
        nia = db.session.query(User).filter_by(username="nia").one()
        assert nia.role == "dispatcher" and "long enough" not in nia.password_hash
    fresh = app.test_client()
    login = fresh.post("/login", data={"username": "nia", "password": "long enough",
                                       "csrf_token": csrf_token(fresh)})
    assert login.status_code == 303


@pytest.mark.parametrize("form, field, message", [
    ({"username": "nia", "role": "dispatcher", "password": "short"}, "password", "at least 8 characters"),
    ({"username": "", "role": "dispatcher", "password": "long enough"}, "username", "1 to 80 characters"),
    ({"username": "nia", "role": "overlord", "password": "long enough"}, "role", "Role must be one of"),
])
def test_a_wrong_account_field_is_refused_inline(app, staff, form, field, message):
    staff.login("admin", username="root")
    response = staff.post("/users", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page[page.index(f'data-error="{field}"'):][:200]
    assert "short" not in page.split('name="password"')[1][:40]  # the password is not echoed
    with app.app_context():
        assert db.session.query(User).count() == 1


def test_a_taken_username_is_refused(staff):
    staff.login("admin", username="root")
    response = staff.post("/users", {"username": "root", "role": "admin", "password": "long enough"})
    assert response.status_code == 422 and "already exists" in response.get_data(as_text=True)


def test_a_disabled_users_session_stops_working_and_enabling_restores_the_account(app, staff, auth):
    from tests.helpers import Auth

    other = app.test_client()
    Auth(app, other).login("nia", role="dispatcher")
    assert other.get("/couriers").status_code == 200

    staff.login("admin", username="root")
    assert staff.post(f"/users/{user_id(app, 'nia')}/disable").status_code == 303
    kicked = other.get("/couriers")
    assert kicked.status_code == 302 and "/login" in kicked.headers["Location"]
    relogin = other.post("/login", data={"username": "nia", "password": "correct horse",
                                         "csrf_token": csrf_token(other)})
    assert relogin.status_code == 401

    assert staff.post(f"/users/{user_id(app, 'nia')}/enable").status_code == 303
    Auth(app, other).login("nia", create=False)
    assert other.get("/couriers").status_code == 200


def test_an_admin_cannot_disable_their_own_account(app, staff):
    staff.login("admin", username="root")
    page = staff.get("/users").get_data(as_text=True)
    assert f"/users/{user_id(app, 'root')}/disable" not in page
    response = staff.post(f"/users/{user_id(app, 'root')}/disable")
    assert response.status_code == 409 and "cannot disable your own account" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user_id(app, "root")).is_enabled


# Flask-SocketIO's test client refuses a message queue: this runs in-process.
@pytest.mark.parametrize("app_config", [{"REDIS_URL": None}], ids=["in-process"])
def test_a_disabled_users_open_board_is_disconnected_and_gets_no_more_orders(app, staff, api, menu):
    from app.infra import live
    from app.extensions import socketio
    from tests.helpers import Auth, order_body

    other = app.test_client()
    Auth(app, other).login("nia", role="dispatcher")
    board = socketio.test_client(app, flask_test_client=other)
    assert board.is_connected()

    staff.login("admin", username="root")
    watching = socketio.test_client(app, flask_test_client=staff.client)
    assert staff.post(f"/users/{user_id(app, 'nia')}/disable").status_code == 303
    assert not board.is_connected()  # closed by the request that disabled the account

    assert api.create(order_body()).status_code == 201
    live.drain(app)
    cards = [m["name"] for m in watching.get_received() if m["name"] in ("order", "orders")]
    assert cards == ["order"]  # the admin's board still gets it (and the strips it touches)
    watching.disconnect()


@pytest.mark.parametrize("app_config", [{"REDIS_URL": None}], ids=["in-process"])
def test_a_board_of_an_account_disabled_by_another_process_is_closed_by_the_sweep(app, monkeypatch):
    """Another process disabled the account (here: straight in the database): this
    process's sweeper finds the socket within SWEEP_SECONDS."""
    from app.board import sockets
    from app.extensions import socketio
    from tests.helpers import Auth, wait_for

    monkeypatch.setattr(sockets, "SWEEP_SECONDS", 0.05)
    other = app.test_client()
    Auth(app, other).login("nia", role="dispatcher")
    board = socketio.test_client(app, flask_test_client=other)
    assert board.is_connected()
    with app.app_context():
        db.session.get(User, user_id(app, "nia")).is_enabled = False
        db.session.commit()
    assert wait_for(lambda: not board.is_connected(), timeout=5)


# --- role and password changes; sessions they end ----------------------------------------

def _signed_in(app, username, role="dispatcher", create=True):
    from tests.helpers import Auth

    client = app.test_client()
    Auth(app, client).login(username, role=role, create=create)
    assert client.get("/couriers").status_code == 200
    return client


def _ended(client) -> bool:
    answer = client.get("/couriers")
    return answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_re_enabling_a_disabled_account_does_not_bring_its_old_sessions_back(app, staff):
    old = _signed_in(app, "nia")
    staff.login("admin", username="root")
    assert staff.post(f"/users/{user_id(app, 'nia')}/disable").status_code == 303
    assert staff.post(f"/users/{user_id(app, 'nia')}/enable").status_code == 303
    assert _ended(old)  # the old cookie stays refused: a fresh login is needed
    _signed_in(app, "nia", create=False)


def test_an_admin_changes_a_role_and_the_accounts_sessions_end(app, staff):
    nia = _signed_in(app, "nia")
    staff.login("admin", username="root")
    page = staff.get("/users").get_data(as_text=True)
    assert f"/users/{user_id(app, 'nia')}/role" in page and f"/users/{user_id(app, 'root')}/role" not in page
    response = staff.post(f"/users/{user_id(app, 'nia')}/role", {"role": "manager"}, htmx=True)
    assert response.status_code == 200 and "nia is now manager" in response.get_data(as_text=True)
    nia_id = user_id(app, "nia")
    with app.app_context():
        assert db.session.get(User, nia_id).role == "manager"
    assert _ended(nia)
    again = _signed_in(app, "nia", create=False)
    assert again.get("/refunds").status_code == 200  # the manager's page, under the new role
    assert staff.get("/users").status_code == 200  # the admin's own session is untouched


def test_a_wrong_role_or_ones_own_role_is_refused(app, staff):
    _signed_in(app, "nia")
    staff.login("admin", username="root")
    wrong = staff.post(f"/users/{user_id(app, 'nia')}/role", {"role": "overlord"})
    assert wrong.status_code == 422 and "Role must be one of" in wrong.get_data(as_text=True)
    own = staff.post(f"/users/{user_id(app, 'root')}/role", {"role": "dispatcher"})
    assert own.status_code == 409 and "cannot change your own role" in own.get_data(as_text=True)
    assert staff.post("/users/999999/role", {"role": "admin"}).status_code == 404
    root, nia = user_id(app, "root"), user_id(app, "nia")
    with app.app_context():
        assert db.session.get(User, root).role == "admin"
        assert db.session.get(User, nia).role == "dispatcher"


def test_an_admin_sets_a_new_password_and_the_old_one_and_its_sessions_stop(app, staff):
    nia = _signed_in(app, "nia")
    staff.login("admin", username="root")
    short = staff.post(f"/users/{user_id(app, 'nia')}/password", {"password": "short"})
    assert short.status_code == 422 and "at least 8 characters" in short.get_data(as_text=True)
    assert not _ended(nia)
    assert staff.post(f"/users/{user_id(app, 'nia')}/password", {"password": "brand new pw"}).status_code == 303
    assert _ended(nia)
    fresh = app.test_client()
    wrong = fresh.post("/login", data={"username": "nia", "password": "correct horse",
                                       "csrf_token": csrf_token(fresh)})
    assert wrong.status_code == 401
    right = fresh.post("/login", data={"username": "nia", "password": "brand new pw",
                                       "csrf_token": csrf_token(fresh)})
    assert right.status_code == 303


def test_an_admin_setting_their_own_password_keeps_this_session_and_ends_the_others(app, staff):
    staff.login("admin", username="root")
    elsewhere = _signed_in(app, "root", role="admin", create=False)
    assert staff.post(f"/users/{user_id(app, 'root')}/password", {"password": "brand new pw"}).status_code == 303
    assert staff.get("/users").status_code == 200
    assert _ended(elsewhere)


def test_role_and_password_changes_need_the_admin_role_and_a_csrf_token(app, staff):
    _signed_in(app, "nia")
    staff.login("manager")
    for path, form in (("role", {"role": "admin"}), ("password", {"password": "long enough"})):
        assert staff.post(f"/users/{user_id(app, 'nia')}/{path}", form).status_code == 403
    nia_id = user_id(app, "nia")
    with app.app_context():
        assert db.session.get(User, nia_id).role == "dispatcher"


@pytest.mark.parametrize("app_config", [{"REDIS_URL": None}], ids=["in-process"])
def test_a_new_password_closes_the_accounts_open_boards(app, staff):
    from app.extensions import socketio

    nia = _signed_in(app, "nia")
    board = socketio.test_client(app, flask_test_client=nia)
    assert board.is_connected()
    staff.login("admin", username="root")
    watching = socketio.test_client(app, flask_test_client=staff.client)
    assert staff.post(f"/users/{user_id(app, 'nia')}/password", {"password": "brand new pw"}).status_code == 303
    assert not board.is_connected()
    assert watching.is_connected()
    watching.disconnect()


def test_the_cli_sets_a_role_and_a_password_and_ends_sessions(app, runner):
    nia = _signed_in(app, "nia")
    result = runner.invoke(args=["user", "set-role", "nia", "manager"])
    assert result.exit_code == 0, result.output
    assert "nia is now manager" in result.output and _ended(nia)
    nia = _signed_in(app, "nia", create=False)
    result = runner.invoke(args=["user", "set-password", "nia", "--password", "brand new pw"])
    assert result.exit_code == 0, result.output
    assert _ended(nia)
    with app.app_context():
        from app.services import accounts

        assert accounts.authenticate("nia", "brand new pw").role == "manager"
    assert runner.invoke(args=["user", "set-password", "nia", "--password", "short"]).exit_code != 0
    assert "no user 'ghost'" in runner.invoke(args=["user", "set-role", "ghost", "admin"]).output
    assert runner.invoke(args=["user", "set-role", "nia", "overlord"]).exit_code != 0


# --- usernames ignore case -------------------------------------------------------------

def test_a_username_differing_only_in_case_is_refused(app, staff):
    staff.login("admin", username="root")
    assert staff.post("/users", {"username": "disp", "role": "dispatcher", "password": "long enough"}).status_code == 303
    response = staff.post("/users", {"username": "DISP", "role": "admin", "password": "long enough"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "already exists" in page[page.index('data-error="username"'):][:200] and "ignore case" in page
    with app.app_context():
        assert db.session.query(User).filter(User.username.in_(["disp", "DISP"])).count() == 1


def test_login_accepts_any_case_of_an_existing_name(app, auth):
    auth.create("Nia")
    fresh = app.test_client()
    for typed in ("nia", "NIA", " Nia "):
        fresh = app.test_client()
        answer = fresh.post("/login", data={"username": typed, "password": "correct horse",
                                            "csrf_token": csrf_token(fresh)})
        assert answer.status_code == 303, typed
        assert "Nia" in fresh.get("/couriers").get_data(as_text=True)  # the stored spelling


def test_the_cli_refuses_a_name_taken_in_another_case(runner, auth):
    auth.create("nia")
    result = runner.invoke(args=["user", "create", "NIA", "--role", "admin", "--password", "long enough"])
    assert result.exit_code != 0 and "already exists" in result.output
