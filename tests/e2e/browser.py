"""Shared Playwright helpers: headless Debian Chromium against a real Passline server.

Skipped only where /usr/bin/chromium is absent and PASSLINE_REQUIRE_BROWSER is unset
(.ci/run sets it and installs Chromium, so CI never skips). Playwright's own browsers are
never downloaded: we point it at the system Chromium.

    from browser import browser, logged_in, wait_live, board_snapshot   # fixtures + helpers
"""
from __future__ import annotations

import json
import os

import pytest
import requests

from app.services import accounts
from app.extensions import db
from tests.helpers import PLATFORM_KEY, order_body, signed_headers

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
TIMEOUT_MS = 10_000  # every wait on the DOM is bounded (generous: CI machines are busy)


# Count sounds and notifications instead of making them (headless has no speakers): an
# init script, before the board's own.
ALARM_STUBS = """
window.__plays = 0; window.__notes = [];
HTMLMediaElement.prototype.play = function () { if (this.volume > 0) window.__plays += 1; return Promise.resolve(); };
window.Notification = function (title) { window.__notes.push(title); };
window.Notification.permission = 'granted';
window.Notification.requestPermission = () => Promise.resolve('granted');
"""


def require_browser() -> None:
    if not os.path.exists(CHROMIUM) and not os.environ.get("PASSLINE_REQUIRE_BROWSER"):
        pytest.skip(f"{CHROMIUM} is not installed")


class Browser:
    """A test's view of a shared Chromium: its contexts (sessions) are closed after the test."""

    def __init__(self, chromium_browser):
        self.chromium, self.contexts = chromium_browser, []

    def new_context(self, **options):
        context = self.chromium.new_context(**options)
        self.contexts.append(context)
        return context

    def close(self):
        for context in self.contexts:
            context.close()


def _chromium(request, *extra_args: str):
    """One Playwright driver and one Chromium (per set of flags) per test module, stopped
    after the module: a launch per test would cost a second each. Kept on the module node,
    so a test module needs to import only the `browser` fixture."""
    if request.node.get_closest_marker("browser") is None:  # make test-fast deselects by it
        pytest.fail(f"{request.node.nodeid} drives Chromium: mark it `browser`", pytrace=False)
    module = request.node.getparent(pytest.Module)
    state = getattr(module, "_passline_chromium", None)
    if state is None:
        require_browser()
        from playwright.sync_api import sync_playwright

        state = module._passline_chromium = {"playwright": sync_playwright().start(), "launched": {}}

        def stop():
            for launched in state["launched"].values():
                launched.close()
            state["playwright"].stop()

        module.addfinalizer(stop)
    if extra_args not in state["launched"]:
        state["launched"][extra_args] = state["playwright"].chromium.launch(
            executable_path=CHROMIUM, headless=True, args=ARGS + list(extra_args))
    return state["launched"][extra_args]


@pytest.fixture
def browser(request):
    """Headless Chromium; contexts made through it are separate sessions, closed after the test."""
    view = Browser(_chromium(request))
    yield view
    view.close()


@pytest.fixture
def browser_blocking_sound(request):
    """Chromium with the autoplay policy of a fresh desktop browser: no sound before a click."""
    view = Browser(_chromium(request, "--autoplay-policy=document-user-activation-required"))
    yield view
    view.close()


def logged_in(browser, base_url: str, username: str, password: str, *, path: str = "/", **context_options):
    """A new browser context (its own cookies) logged in through the real form, on `path`;
    `context_options` are Playwright's (e.g. `timezone_id`).
    Any JavaScript dialog (an XSS firing alert()) is recorded on `page.dialogs`."""
    context = browser.new_context(**{"viewport": {"width": 1600, "height": 900}, **context_options})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.dialogs = []
    page.errors = []

    def on_dialog(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    # A CSP violation or a failed script shows as a console error: tests assert there is none.
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.goto(base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(base_url + "/")
    if path != "/":
        page.goto(base_url + path)
    return page


def wait_live(page) -> None:
    """Until the board's socket is connected and its first catch-up load has settled."""
    page.wait_for_selector('#conn[data-state="live"]', timeout=TIMEOUT_MS)
    page.wait_for_function("() => !document.querySelector('.htmx-request') && "
                           "!document.documentElement.hasAttribute('data-board-loading')", timeout=TIMEOUT_MS)


def record_socket_events(page) -> None:
    """From now on `window.socketEvents` lists the Socket.IO events the page's sockets have
    handled, each added once its handlers have run: the signal that a push has arrived and
    had its effect (or none). Wraps the pinned socket.io-client's Socket.emitEvent."""
    page.evaluate("""() => {
        window.socketEvents = [];
        const handle = io.Socket.prototype.emitEvent;
        io.Socket.prototype.emitEvent = function (args) {
            handle.call(this, args);
            window.socketEvents.push(args[0]);
        };
    }""")


def card(page, order_id: str, column: str | None = None) -> str:
    """The CSS selector of an order's card (inside `column` when given)."""
    inner = f'[data-order-id="{order_id}"]'
    return f'section[data-state="{column}"] {inner}' if column else inner


def wait_card_in(page, order_id: str, column: str, timeout: int = TIMEOUT_MS) -> None:
    page.wait_for_selector(card(page, order_id, column), timeout=timeout)


def board_snapshot(page) -> dict:
    """{column: {order id: (version, text without the ticking ages and countdowns)}} as the page shows it."""
    return page.evaluate("""() => {
        const out = {};
        document.querySelectorAll('#board section[data-state]').forEach(col => {
            const cards = {};
            col.querySelectorAll('[data-order-id]').forEach(card => {
                const copy = card.cloneNode(true);
                copy.querySelectorAll('[data-since], .due-left').forEach(el => el.remove());
                cards[card.dataset.orderId] = [card.dataset.version, copy.textContent.replace(/\\s+/g, ' ').trim()];
            });
            out[col.dataset.state] = {cards, count: col.querySelector('.count').textContent.trim()};
        });
        return out;
    }""")


PASSWORD = "correct horse"  # of the staff_accounts


@pytest.fixture
def staff_accounts(app, fast_passwords):
    """Dispatchers dana and eli, manager maya; all with PASSWORD."""
    with app.app_context():
        for name, role in (("dana", "dispatcher"), ("eli", "dispatcher"), ("maya", "manager")):
            accounts.create_user(name, role=role, password=PASSWORD)
        db.session.commit()


class Remote:
    """The customer app and OneTablet, calling the live server over real HTTP."""

    def __init__(self, url):
        self.url = url

    def create(self, **kw) -> str:
        body = order_body(**kw)
        answer = requests.post(self.url + "/api/orders", json=body, timeout=5,
                               headers={"Authorization": f"Bearer {PLATFORM_KEY}"})
        assert answer.status_code == 201, answer.text
        return body["id"]

    def webhook(self, path: str, body: dict) -> None:
        raw = json.dumps(body)
        answer = requests.patch(self.url + "/onetablet" + path, data=raw, headers=signed_headers(raw), timeout=5)
        assert answer.status_code == 200, answer.text

    def confirm(self, order_id):
        self.webhook(f"/orders/{order_id}", {"merchant_supplied_id": f"R-{order_id}", "order_status": "success"})

    def ready(self, order_id):
        self.webhook(f"/orders/{order_id}/events/order_ready_for_pickup", {"merchant_supplied_id": f"R-{order_id}"})


@pytest.fixture
def remote(live_server, menu):
    return Remote(live_server.url)
