"""Customer text is text, on the board, in the detail and in live updates; a post without
the CSRF token is refused and changes nothing; a dispatcher gets no manager pages."""
import pytest
import requests

from browser import (  # noqa: F401  (fixtures are used by name)
    PASSWORD, browser, card, logged_in, remote, staff_accounts, wait_card_in, wait_live,
)
from tests.helpers import PLATFORM_KEY

pytestmark = pytest.mark.browser
EVIL = "<img src=x onerror=alert(1)>"


def test_a_customer_named_like_html_is_shown_as_text_and_runs_nothing(live_server, remote, browser,
                                                                     staff_accounts):
    first = remote.create(consumer={"id": 1, "first_name": EVIL, "last_name": EVIL, "phone": "+15550000000"})
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    wait_live(page)
    # text_content: a card just inserted may be skipped from rendering a frame (the board's
    # cards use content-visibility: auto), and innerText then reads ''.
    assert page.text_content(card(page, first) + " .cust") == EVIL

    second = remote.create(consumer={"id": 2, "first_name": EVIL, "last_name": "", "phone": ""})
    wait_card_in(page, second, "submitted")  # arrived as a live update's HTML
    assert page.text_content(card(page, second) + " .cust") == EVIL

    page.click(card(page, first) + " .card-main")
    page.wait_for_selector(f'#detail [data-detail-id="{first}"]')
    assert f"{EVIL} {EVIL}" in page.inner_text("#detail")
    page.fill("#q", "onerror")
    page.wait_for_function("() => document.querySelectorAll('#board [data-order-id]').length === 2")

    assert page.locator("#board img, #detail img").count() == 0
    assert page.dialogs == []
    assert page.errors == []


def test_an_htmx_action_without_the_csrf_token_is_refused_and_changes_nothing(live_server, remote, browser,
                                                                             staff_accounts):
    order_id = remote.create()
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    wait_live(page)
    status = page.evaluate("""(url) => fetch(url, {method: 'POST', headers: {'HX-Request': 'true',
        'Content-Type': 'application/x-www-form-urlencoded'}, body: 'reason=KITCHEN_BUSY'}).then(r => r.status)""",
                           f"/orders/{order_id}/cancel")
    assert status == 400
    with_token = page.evaluate("""(url) => fetch(url, {method: 'POST', headers: {'HX-Request': 'true',
        'X-CSRFToken': document.querySelector('meta[name=csrf-token]').content,
        'Content-Type': 'application/x-www-form-urlencoded'}, body: 'reason=NONSENSE'}).then(r => r.status)""",
                               f"/orders/{order_id}/cancel")
    assert with_token == 422  # the token got through; the form was judged on its merits
    order = requests.get(f"{live_server.url}/api/orders/{order_id}", timeout=5,
                         headers={"Authorization": f"Bearer {PLATFORM_KEY}"}).json()
    assert order["state"] == "submitted"
    assert [e["event"] for e in order["timeline"]] == ["submitted"]
    assert page.locator(card(page, order_id, "submitted")).count() == 1


def test_a_dispatcher_has_no_manager_pages(live_server, browser, staff_accounts):
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    assert page.locator("nav.nav >> text=Reports").count() == 0
    assert page.locator("nav.nav >> text=Users").count() == 0
    for path in ("/reports", "/users"):
        assert page.goto(live_server.url + path).status == 403


def test_a_board_whose_session_is_gone_goes_to_the_login_page_not_into_it(app, live_server, browser,
                                                                         staff_accounts):
    """A new SECRET_KEY (every `make demo` start makes one) or a sign-out elsewhere: the open
    board's socket is refused on reconnect, and its next refresh sends the whole window to
    log in (and back to the same board after), instead of pasting the login form into it."""
    from app.extensions import socketio

    page = logged_in(browser, live_server.url, "dana", PASSWORD, path="/?type=pickup")
    wait_live(page)
    app.config["SECRET_KEY"] = "another-key-so-every-session-cookie-is-void"
    # Every socket drops; the page reconnects and is refused. Not eio.disconnect(): it waits for
    # each socket's queue to drain, for ever for a socket whose WebSocket never opened (a
    # browser that gave up on it under load) until Engine.IO's ping timeout removes it.
    for sock in list(socketio.server.eio.sockets.values()):
        sock.close(wait=False)
    page.wait_for_url(lambda url: "/login" in url, timeout=20_000)
    assert page.url.endswith("/login?next=/?type%3Dpickup")
    assert page.locator("#board").count() == 0 and page.locator("input[name=password]").count() == 1
