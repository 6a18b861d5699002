"""Issue 4's security points, for the staff pages and in general: customer and OneTablet
text is escaped, every form needs its CSRF token, roles gate pages, session cookies are
secure in production, and every page carries the CSP and needs no inline script or style."""
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from werkzeug.routing import IntegerConverter

from app.services import actions
from app import create_app
from app.extensions import db
from app.models import Courier, Refund, Store, User, WebhookReceipt
from app.infra.security import CSP
from tests.helpers import order_body

pytestmark = pytest.mark.usefixtures("fast_passwords")  # many logins per module

EVIL = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture
def world(app, hook, api, menu):
    """Something on every staff page: a courier carrying an order, a pending refund, a
    paused store with an 86'd item, webhooks, a second account — most of it named in HTML."""
    evil_customer = {"consumer": {"id": 1, "first_name": EVIL, "last_name": EVIL, "phone": "+15550000000"}}
    carried, rejected = order_body(**evil_customer), order_body(**evil_customer)
    for body in (carried, rejected):
        assert api.create(body).status_code == 201
    hook.confirm(carried["id"])
    hook.reject(rejected["id"], reason=EVIL)
    hook.cancel("no-such-order", reason="OTHER", details=EVIL)  # refused, body kept raw
    hook.ready(quote(EVIL, safe=""))  # an order id in HTML: refused, listed in the log
    hook.menu("store-1", [{"name": EVIL, "items": [{"merchant_supplied_id": "x1", "name": EVIL, "price": 100}]}])
    hook.items("store-1", {"x1": False})
    hook.store_status("store-1", False, reason=EVIL)
    with app.app_context():
        courier = Courier(name=EVIL, phone="+15559876543")
        idle = Courier(name="Idle Ian", phone="+15551112222")
        db.session.add_all([courier, idle, Store(merchant_supplied_id="evil", name=EVIL, timezone="UTC")])
        db.session.commit()
        actions.assign_courier(carried["id"], courier_id=courier.id, actor="staff:test")
        from app.services import accounts

        accounts.create_user("victim", role="dispatcher", password="long enough")
        db.session.commit()
        return {
            "courier": courier.id, "idle": idle.id, "carried": carried["id"],
            "refund": db.session.query(Refund.id).scalar(),
            "user": db.session.query(User.id).filter_by(username="victim").scalar(),
            "receipt": db.session.query(WebhookReceipt.id).filter_by(kind="order_cancellation").scalar(),
        }


def assert_escaped(page: str):
    assert EVIL not in page
    assert ESCAPED in page or "&lt;img src=x onerror=alert(1)&gt;" in page.replace("&#39;", "'")


# --- escaping --------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/couriers", "/refunds", "/stores", "/webhooks", "/webhooks/{receipt}"])
def test_customer_courier_and_store_html_is_shown_as_text(world, staff, path):
    staff.login("admin")
    page = staff.get(path.format(**world)).get_data(as_text=True)
    assert_escaped(page)


def test_who_carries_what_escapes_the_customer_and_courier(world, staff):
    staff.login()
    page = staff.get("/couriers").get_data(as_text=True)
    row = page[page.index(f'data-courier-id="{world["courier"]}"'):]
    row = row[:row.index("</tr>")]
    assert row.count(ESCAPED) >= 2 and EVIL not in row  # courier name and customer name


def test_the_raw_webhook_body_is_escaped_in_its_htmx_fragment(world, staff):
    staff.login()
    fragment = staff.get(f"/webhooks/{world['receipt']}", htmx=True).get_data(as_text=True)
    assert_escaped(fragment)
    assert "onerror" in fragment  # it is shown, as text


# --- CSRF ------------------------------------------------------------------------------

def snapshot(app) -> dict:
    """Everything the staff pages' forms can change."""
    with app.app_context():
        return {
            "couriers": sorted(db.session.query(Courier.id, Courier.name, Courier.is_active).all()),
            "stores": sorted(db.session.query(Store.merchant_supplied_id, Store.name).all()),
            "refunds": sorted(db.session.query(Refund.id, Refund.status, Refund.processed_by).all()),
            "users": sorted(db.session.query(User.id, User.username, User.is_enabled).all()),
        }


STAFF_FORMS = [
    ("/couriers", {"name": "Ana Lopez", "phone": "+15552223333"}),
    ("/couriers/{courier}/deactivate", {"confirm": "yes"}),
    ("/couriers/{idle}/deactivate", {}),
    ("/couriers/{courier}/reactivate", {}),
    ("/stores", {"merchant_supplied_id": "s-new", "name": "New", "timezone": "UTC"}),
    ("/refunds/{refund}/process", {}),
    ("/users", {"username": "mallory", "role": "admin", "password": "long enough"}),
    ("/users/{user}/disable", {}),
]


@pytest.mark.parametrize("path, form", STAFF_FORMS, ids=[p for p, _ in STAFF_FORMS])
def test_a_staff_form_without_its_csrf_token_is_refused_and_changes_nothing(app, world, staff, path, form):
    staff.login("admin")
    before = snapshot(app)
    for htmx in (False, True):
        response = staff.post(path.format(**world), form, htmx=htmx, csrf=False)
        assert response.status_code == 400
        assert snapshot(app) == before


def test_a_staff_form_with_a_forged_token_is_refused(app, world, staff):
    staff.login("admin")
    response = staff.client.post("/couriers", data={"name": "Ana", "phone": "+15552223333",
                                                    "csrf_token": "forged"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.query(Courier).filter_by(name="Ana").count() == 0


def _token_signed_ago(app, client, seconds: int) -> str:
    """The client's session CSRF token, signed as if its page had been loaded `seconds` ago
    (Flask-WTF's own serializer, with a signer whose clock is behind)."""
    import time

    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    class Earlier(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - seconds

    with client.session_transaction() as session:
        raw = session["csrf_token"]
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token", signer=Earlier).dumps(raw)


def test_a_form_left_open_for_hours_still_submits_while_the_session_lasts(app, staff):
    """Flask-WTF's default token lifetime is one hour; a console is left open all shift."""
    staff.login("dispatcher")
    old = _token_signed_ago(app, staff.client, 9 * 3600)
    for htmx in (False, True):
        phone = "+1555222333" + ("4" if htmx else "3")  # two couriers: one number each
        response = staff.client.post("/couriers", data={"name": f"Ana {htmx}", "phone": phone,
                                                        "csrf_token": old},
                                     headers={"HX-Request": "true"} if htmx else {})
        assert response.status_code in (200, 303), response.get_data(as_text=True)[:300]
    with app.app_context():
        assert db.session.query(Courier).filter(Courier.name.like("Ana %")).count() == 2


def test_a_token_from_another_session_is_still_refused_however_fresh(app, staff):
    staff.login("dispatcher")
    other = app.test_client()
    other.get("/login")
    stranger = _token_signed_ago(app, other, 0)
    response = staff.client.post("/couriers", data={"name": "Ana", "phone": "+15552223333", "csrf_token": stranger})
    assert response.status_code == 400


def test_a_refused_form_says_in_words_what_to_do(staff):
    staff.login("dispatcher")
    page = staff.post("/couriers", {"name": "Ana", "phone": "+15552223333"}, csrf=False)
    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "Reload the page and submit the form again" in text and "nothing was changed" in text
    assert "CSRF token" not in text  # not Flask-WTF's jargon
    answer = staff.client.post("/couriers", data={}, headers={"Accept": "application/json"})
    assert answer.status_code == 400 and "Reload the page" in answer.get_json()["detail"]


def _example_url(rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        options = getattr(converter, "items", None)  # any(...)
        values[name] = sorted(options)[0] if options else ("1" if isinstance(converter, IntegerConverter) else "x")
    return rule.build(values)[1]


def test_every_staff_post_route_needs_a_csrf_token(app, world, staff):
    """In general, not only the staff pages: the board's actions, logout, login..."""
    staff.login("admin")
    # /c/ (couriers' phones) carries no session: its token is in the path, and it checks the
    # Origin instead (tests/integration/test_courier_phones.py).
    machine = ("/onetablet", "/api", "/c/")
    routes = [r for r in app.url_map.iter_rules() if "POST" in r.methods and not r.rule.startswith(machine)]
    assert len(routes) >= 8
    for rule in routes:
        response = staff.client.post(_example_url(rule), data={})
        assert response.status_code == 400, f"{rule.rule} answered {response.status_code} without a CSRF token"


# --- roles -----------------------------------------------------------------------------

MANAGER_PAGES = ["/refunds", "/reports", "/reports.csv"]
ADMIN_PAGES = ["/users"]
DISPATCHER_PAGES = ["/couriers", "/stores", "/webhooks", "/webhooks/{receipt}"]


@pytest.mark.parametrize("path", MANAGER_PAGES + ADMIN_PAGES)
def test_a_dispatcher_cannot_open_manager_or_admin_pages(world, staff, path):
    staff.login("dispatcher")
    assert staff.get(path.format(**world)).status_code == 403


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_a_manager_cannot_open_admin_pages(world, staff, path):
    staff.login("manager")
    assert staff.get(path.format(**world)).status_code == 403


@pytest.mark.parametrize("path, form", [
    ("/refunds/{refund}/process", {}),
    ("/orders/{carried}/override", {"to_state": "completed", "reason": "fixing by hand"}),
    ("/stores", {"merchant_supplied_id": "s-new", "name": "New", "timezone": "UTC"}),
    ("/users", {"username": "mallory", "role": "admin", "password": "long enough"}),
    ("/users/{user}/disable", {}),
])
def test_a_dispatcher_cannot_take_manager_or_admin_actions(app, world, staff, path, form):
    staff.login("dispatcher")
    before = snapshot(app)
    with app.app_context():
        state = db.session.query(Refund).first().order.state
    assert staff.post(path.format(**world), form).status_code == 403
    assert snapshot(app) == before
    with app.app_context():
        assert db.session.query(Refund).first().order.state == state


@pytest.mark.parametrize("role, path", [
    (role, path) for role, paths in [("dispatcher", DISPATCHER_PAGES), ("manager", MANAGER_PAGES + DISPATCHER_PAGES)]
    for path in paths])  # and admin everywhere: see the CSP scans below
def test_each_role_opens_its_pages(world, staff, role, path):
    staff.login(role)
    assert staff.get(path.format(**world)).status_code == 200


@pytest.mark.parametrize("path", ["/"] + DISPATCHER_PAGES + MANAGER_PAGES + ADMIN_PAGES)
def test_anonymous_people_are_sent_to_the_login_page(world, client, path):
    response = client.get(path.format(**world))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("path, form", STAFF_FORMS, ids=[p for p, _ in STAFF_FORMS])
def test_anonymous_posts_change_nothing(app, world, client, path, form):
    from tests.helpers import csrf_token

    before = snapshot(app)
    response = client.post(path.format(**world), data={**form, "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert snapshot(app) == before


# --- session cookies -------------------------------------------------------------------

@pytest.fixture
def production(monkeypatch):
    monkeypatch.setenv("PASSLINE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-from-the-environment")


def test_production_session_cookies_are_secure_httponly_and_lax(production, _database, auth):
    from tests.helpers import Auth, make_app

    app = make_app(_database, SECRET_KEY=None)
    app.config["SECRET_KEY"] = "a-real-secret-from-the-environment"
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    client = app.test_client()
    response = Auth(app, client).login("prod-user", role="dispatcher")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    attributes = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")[1:]}
    assert "secure" in attributes and "httponly" in attributes
    assert attributes["samesite"].strip() == "SameSite=Lax"


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, _database):
    monkeypatch.setenv("PASSLINE_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": _database, "TESTING": True})


def test_production_refuses_to_send_customer_notifications_unsigned(production, monkeypatch, _database):
    monkeypatch.setenv("CUSTOMER_WEBHOOK_URL", "http://127.0.0.1:9/customer")
    monkeypatch.delenv("CUSTOMER_WEBHOOK_SECRET", raising=False)
    with pytest.raises(RuntimeError, match="CUSTOMER_WEBHOOK_SECRET"):
        create_app({"SQLALCHEMY_DATABASE_URI": _database, "TESTING": True})
    monkeypatch.setenv("CUSTOMER_WEBHOOK_SECRET", "whsec_" + "QUJD" * 8)
    assert create_app({"SQLALCHEMY_DATABASE_URI": _database, "TESTING": True}).config["CUSTOMER_WEBHOOK_SECRET"]


def test_development_cookies_are_still_httponly_and_lax(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


# --- CSP, no inline script or style ---------------------------------------------------

class InlineCode(HTMLParser):
    """Finds what a strict CSP would block: inline <script> (a JSON data block is fine),
    <style>, style="…" and on…= handlers."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        names = {name.lower() for name, _ in attrs}
        data_block = (dict(attrs).get("type") or "").lower() == "application/json"  # never executed
        if tag == "script" and "src" not in names and not data_block:
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> element")
        if "style" in names:
            self.found.append(f"style= on <{tag}>")
        self.found += [f"{n}= on <{tag}>" for n in names if n.startswith("on")]


def inline_code(page: str) -> list[str]:
    parser = InlineCode()
    parser.feed(page)
    return parser.found


@pytest.mark.parametrize("path", ["/couriers", "/stores", "/refunds", "/webhooks", "/webhooks/{receipt}", "/users"])
def test_staff_pages_carry_the_csp_and_need_no_inline_script_or_style(world, staff, path):
    staff.login("admin")
    for htmx in (False, True):  # the page, and the fragment htmx swaps in
        response = staff.get(path.format(**world), htmx=htmx)
        assert response.status_code == 200
        assert response.headers["Content-Security-Policy"] == CSP
        assert inline_code(response.get_data(as_text=True)) == []


def test_the_warnings_and_errors_need_no_inline_script_or_style_either(app, world, staff):
    staff.login("admin")
    answers = [
        staff.post(f"/couriers/{world['courier']}/deactivate"),  # the carrying warning
        staff.post("/couriers", {"name": "", "phone": ""}),
        staff.post("/stores", {"merchant_supplied_id": "", "name": "", "timezone": "x"}),
        staff.post("/users", {"username": "", "role": "x", "password": ""}),
    ]
    for response in answers:
        assert response.status_code in (409, 422)
        assert response.headers["Content-Security-Policy"] == CSP
        assert inline_code(response.get_data(as_text=True)) == []


def test_every_page_of_the_app_carries_the_csp_and_needs_no_inline_script_or_style(app, world, staff):
    """In general: every GET page without arguments, as an admin (who sees every page)."""
    staff.login("admin")
    pages = [r.rule for r in app.url_map.iter_rules()
             if "GET" in r.methods and not r.arguments and not r.rule.startswith(("/api", "/onetablet", "/static"))]
    assert {"/", "/login", "/couriers", "/users"} <= set(pages)
    for path in pages:
        response = staff.get(path)
        assert response.headers.get("Content-Security-Policy") == CSP, path
        if response.mimetype == "text/html":
            assert inline_code(response.get_data(as_text=True)) == [], path
    error = staff.get("/no-such-page")
    assert error.status_code == 404 and error.headers["Content-Security-Policy"] == CSP
    assert inline_code(error.get_data(as_text=True)) == []


@pytest.mark.parametrize("origin, status", [("https://evil.example", 400), ("http://localhost", 200), (None, 200)])
def test_only_this_sites_pages_may_open_a_socket(staff, origin, status):
    """A page on another site, riding a dispatcher's cookie, must not get the board's socket
    (browsers send Origin on WebSocket and polling requests alike)."""
    staff.login()
    headers = {"Origin": origin} if origin else {}
    response = staff.client.get("/socket.io/?EIO=4&transport=polling", headers=headers)
    assert response.status_code == status


# --- error pages: the layout for people, JSON for machines; a favicon -------------------

def test_error_pages_for_people_have_the_layout_navigation_and_a_way_back(app, staff):
    staff.login("dispatcher")
    for path, code in (("/no-such-page", 404), ("/users", 403)):
        answer = staff.client.get(path, headers={"Referer": "http://localhost/couriers"})
        page = answer.get_data(as_text=True)
        assert answer.status_code == code
        assert 'class="topbar"' in page and 'href="/couriers"' in page  # the navigation
        assert "css/app.css" in page and "favicon.svg" in page
        assert 'data-link="back"' in page and 'data-link="board"' in page
        assert f'data-status="{code}"' in page
    refused = staff.post("/couriers", {"name": "Ana"}, csrf=False).get_data(as_text=True)
    assert 'class="topbar"' in refused and "Reload the page" in refused


def test_an_anonymous_persons_error_page_offers_the_login_page(client):
    page = client.get("/no-such-page").get_data(as_text=True)
    assert 'data-link="login"' in page and 'class="topbar"' not in page and "css/app.css" in page


def test_an_unexpected_error_shows_the_layout_too(app, staff):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("boom")

    staff.login("dispatcher")
    answer = staff.client.get("/boom-for-test")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 500 and 'class="topbar"' in page and "it has been logged" in page
    assert "boom" not in page.split("<main")[1]


@pytest.mark.parametrize("path", ["/api/v1/no-such", "/onetablet/no-such", "/healthz/no-such"])
def test_machine_paths_still_get_json_errors(client, path):
    answer = client.get(path)
    assert answer.status_code == 404 and answer.is_json and answer.get_json()["error"] == "not_found"


def test_the_favicon_is_ours_and_allowed_by_the_csp(client):
    for path in ("/favicon.ico", "/static/favicon.svg"):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.mimetype == "image/svg+xml"
        assert b"<svg" in answer.data
    assert "favicon.svg" in client.get("/login").get_data(as_text=True)
    assert 'href="data:,"' not in client.get("/login").get_data(as_text=True)
