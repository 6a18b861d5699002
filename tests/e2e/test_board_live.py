"""The board in real browsers: live moves reach every open board, and a board that lost
its connection catches up to exactly what a fresh load shows."""
import time

import pytest

from app.services import actions
from browser import (  # noqa: F401  (fixtures are used by name)
    PASSWORD, board_snapshot, browser, card, logged_in, remote, staff_accounts, wait_card_in,
    wait_live,
)

pytestmark = pytest.mark.browser


def test_a_signed_webhook_moves_the_card_in_two_browsers_within_a_second(live_server, remote, browser,
                                                                       staff_accounts):
    order_id = remote.create()
    pages = [logged_in(browser, live_server.url, name, PASSWORD) for name in ("dana", "eli")]
    for page in pages:
        wait_live(page)
        wait_card_in(page, order_id, "submitted")

    remote.confirm(order_id)
    sent = time.monotonic()
    for page in pages:
        left_ms = max(1, int(1000 - (time.monotonic() - sent) * 1000))
        wait_card_in(page, order_id, "confirmed", timeout=left_ms)
        assert page.locator(card(page, order_id)).count() == 1  # moved, not copied
        assert page.locator('section[data-state="submitted"] .count').inner_text() == "0"
        assert page.locator('section[data-state="confirmed"] .count').inner_text() == "1"
        assert page.dialogs == [] and page.errors == []


def test_an_older_update_never_overwrites_a_newer_card(live_server, remote, browser, staff_accounts):
    order_id = remote.create()
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    wait_live(page)
    remote.confirm(order_id)
    remote.ready(order_id)
    wait_card_in(page, order_id, "ready")
    stale = page.evaluate("""(id) => {
        const card = document.querySelector(`[data-order-id="${CSS.escape(id)}"]`);
        const html = card.outerHTML.replace(/data-version="\\d+"/, 'data-version="1"');
        return html;
    }""", order_id)
    # Replay the first (oldest) version of the card as if it arrived late.
    page.evaluate("""([id, html]) => window.passlineBoard.socket.listeners('order')[0](
        {id, version: 1, state: 'submitted', column: 'submitted', html: html.replace('s-ready', 's-submitted')})""",
                  [order_id, stale])
    assert page.locator(card(page, order_id, "ready")).count() == 1
    assert page.locator(card(page, order_id, "submitted")).count() == 0


def test_a_board_that_lost_its_connection_shows_what_a_fresh_load_shows(app, live_server, remote, browser,
                                                                       staff_accounts):
    confirmed, cancelled, waiting = remote.create(), remote.create(), remote.create()
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    wait_live(page)
    for order_id in (confirmed, cancelled, waiting):
        wait_card_in(page, order_id, "submitted")

    page.context.set_offline(True)
    page.evaluate("window.passlineBoard.socket.io.engine.close()")  # the network drops the socket
    page.wait_for_selector('#conn[data-state="reconnecting"]')

    remote.confirm(confirmed)
    remote.ready(confirmed)
    with app.app_context():
        actions.cancel(cancelled, reason="KITCHEN_BUSY", details=None, actor="staff:eli")
    arrived = remote.create()
    # Offline, the page heard none of it.
    assert page.locator(card(page, confirmed, "submitted")).count() == 1
    assert page.locator(card(page, arrived)).count() == 0

    page.context.set_offline(False)
    wait_card_in(page, confirmed, "ready")
    wait_live(page)

    fresh = page.context.new_page()
    fresh.goto(live_server.url + "/")
    expected = board_snapshot(fresh)
    assert board_snapshot(page) == expected
    assert set(expected["ready"]["cards"]) == {confirmed}
    assert set(expected["exceptions"]["cards"]) == {cancelled}
    assert set(expected["submitted"]["cards"]) == {waiting, arrived}


def test_filters_live_in_the_url_and_live_updates_respect_them(live_server, remote, browser, staff_accounts):
    pickup = remote.create(pickup=True)
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    wait_live(page)
    page.select_option("#filters select[name=type]", "pickup")
    page.wait_for_url("**/?*type=pickup*")
    later_delivery, later_pickup = remote.create(), remote.create(pickup=True)
    wait_card_in(page, later_pickup, "submitted")
    assert page.locator(card(page, later_delivery)).count() == 0
    page.reload()
    wait_live(page)
    assert page.locator("#filters select[name=type]").input_value() == "pickup"
    assert {pickup, later_pickup} == set(page.eval_on_selector_all(
        "#board [data-order-id]", "cards => cards.map(c => c.dataset.orderId)"))


@pytest.mark.parametrize("app_config", [{"BOARD_CATCH_UP_SECONDS": 1}], ids=["catch-up-1s"])
def test_a_filter_chosen_while_the_board_reloads_wins_and_the_board_stays_live(live_server, remote, browser,
                                                                               staff_accounts):
    """Two board loads at once (a catch-up reload still on its way when the dispatcher picks
    a filter) once left the board waiting forever for the first one: every push after it
    was held back. The newer load wins; the board goes on taking pushes."""
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    wait_live(page)
    held = []  # the next catch-up reload of the unfiltered board, kept from the server

    def hold(route):
        if route.request.headers.get("hx-request") and "type=" not in route.request.url and not held:
            held.append(route)
        else:
            route.continue_()

    page.route(f"{live_server.url}/?*", hold)
    page.route(f"{live_server.url}/", hold)
    for _ in range(50):  # the next catch-up reload, within BOARD_CATCH_UP_SECONDS
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "a catch-up reload was expected within BOARD_CATCH_UP_SECONDS"
    page.select_option("#filters select[name=type]", "pickup")
    page.wait_for_url("**/?*type=pickup*")
    try:
        held[0].continue_()  # the old reload's answer, late (the browser may have dropped it)
    except Exception:
        pass
    pickup = remote.create(pickup=True)
    wait_card_in(page, pickup, "submitted")
    assert page.locator("#board").get_attribute("data-filter-type") == "pickup"


@pytest.mark.parametrize("app_config", [{"BOARD_CATCH_UP_SECONDS": 1}], ids=["catch-up-1s"])
def test_a_board_that_missed_a_push_catches_up_keeping_focus_and_shown_columns(app, live_server, remote, browser,
                                                                              staff_accounts):
    """A push lost on its way (the socket still up) leaves no card stale for long: a visible
    board reloads itself every BOARD_CATCH_UP_SECONDS, and the dispatcher keeps the card
    they were on and the column they asked to see whole."""
    from app.board.queries import CAP
    from app.extensions import db
    from app.models import Order

    ids = [remote.create() for _ in range(CAP + 1)]  # a capped "submitted" column
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    wait_live(page)
    page.click('section[data-state="submitted"] button.more')
    page.wait_for_selector(f'section[data-state="submitted"] .card:nth-of-type({CAP + 1})')
    focused = ids[3]
    page.focus(card(page, focused))

    with app.app_context():  # changed without a push, as if the push was lost
        order = db.session.get(Order, ids[0])
        order.customer_first_name, order.version = "Zelda", order.version + 1
        db.session.commit()

    page.wait_for_selector(f'{card(page, ids[0])} .cust:text("Zelda")', timeout=5_000)
    page.wait_for_selector(f'section[data-state="submitted"] .card:nth-of-type({CAP + 1})')
    # The focus comes back once the whole column has settled (htmx settles 20 ms after a swap).
    page.wait_for_function("id => document.activeElement?.dataset?.orderId === id", arg=focused)
    assert page.errors == [] and page.dialogs == []


def board_fetches(page) -> list:
    """Records the board's own reloads (the columns fragment, a whole column) as they go."""
    seen = []

    def on_request(request):
        path = request.url.split("?")[0][len(page.live_url):]
        fragment = path == "/" and request.headers.get("hx-request") == "true"
        if fragment or path.startswith("/board/columns"):
            seen.append(request.url)

    page.on("request", on_request)
    return seen


def test_a_fresh_board_loads_its_columns_once_and_reloads_them_after_a_reconnect(live_server, remote, browser,
                                                                                 staff_accounts):
    page = logged_in(browser, live_server.url, "dana", PASSWORD, path="/login")  # not on the board yet
    page.live_url = live_server.url
    fetches = board_fetches(page)
    page.goto(live_server.url + "/")
    wait_live(page)
    waiting = remote.create()
    wait_card_in(page, waiting, "submitted")  # pushed: no reload needed
    later = remote.create()  # a later push: once its card is in, a reload the first asked for was sent
    wait_card_in(page, later, "submitted")
    assert fetches == []

    page.context.set_offline(True)
    page.evaluate("window.passlineBoard.socket.io.engine.close()")
    page.wait_for_selector('#conn[data-state="reconnecting"]')
    arrived = remote.create()  # while the board hears nothing
    fetches.clear()  # (a refused reconnect also tries a reload: is the session gone?)
    page.context.set_offline(False)
    wait_card_in(page, arrived, "submitted")  # the reconnect's catch-up
    wait_live(page)
    assert len(fetches) == 1
    assert page.dialogs == []  # (errors: htmx logs the reloads tried while offline)


def requests_made(page, base_url: str) -> list:
    """Every HTTP request the page makes from now on, but its socket's, as (path, htmx?)."""
    made = []

    def on_request(request):
        path = request.url.split("?")[0][len(base_url):]
        if not path.startswith("/socket.io"):
            made.append((path, request.headers.get("hx-request") == "true"))

    page.on("request", on_request)
    return made


STRIP_FETCHES = ("/board/attention", "/board/couriers")
RELOAD = ("/", True)  # the board's columns fragment, which carries both strips out of band


def test_pushed_changes_reach_the_strip_and_the_courier_panel_and_a_reload_is_one_request(
        app, live_server, remote, browser, staff_accounts):
    """Issue 18: each board once fetched the strip after every pushed card (and the panel
    after every card with a courier): with 2,000 boards open, 2,000 requests per webhook.
    The server now pushes both, rendered once. And a reload (reconnect, catch-up) once made
    three requests, the columns then the strip and the list: its answer now carries all three."""
    from app.extensions import db
    from app.models import Order
    from tests.helpers import add_couriers

    jonah = add_couriers(app, "Jonah Weiss")["Jonah"]
    late = [remote.create() for _ in range(5)]
    carried = remote.create()
    remote.confirm(carried)
    remote.ready(carried)
    page = logged_in(browser, live_server.url, "dana", PASSWORD, path="/login")
    made = requests_made(page, live_server.url)
    page.goto(live_server.url + "/")
    wait_live(page)
    assert page.locator("#attention .att-overdue").count() == 0
    page.wait_for_selector(f'#couriers [data-courier-id="{jonah}"][data-load="0"]', state="attached")

    pushes = 0
    for n, order_id in enumerate(late, 1):
        with app.app_context():  # flagged without a push of its own: the next change's strip shows it
            db.session.get(Order, order_id).overdue_level = 1
            db.session.commit()
        wait_card_in(page, remote.create(), "submitted")
        pushes += 1
        page.wait_for_selector(f'#attention .att-overdue .att-title:text-is("{n} overdue")')

    page.click(card(page, carried) + " .card-main")
    page.select_option("#detail .act-courier select[name=courier_id]", str(jonah))
    page.click("#detail .act-courier button")
    pushes += 1
    page.wait_for_selector(f'#couriers [data-courier-id="{jonah}"][data-load="1"]', state="attached")
    page.wait_for_function("id => [...document.querySelectorAll('#bulk-courier option')]"
                           ".some(o => o.value === String(id) && o.text.startsWith('Jonah Weiss (1 open)'))", arg=jonah)
    print(f"\n{pushes} pushed changes: {len(made)} requests, {made.count(RELOAD)} board reloads")
    assert not [path for path, _ in made if path in STRIP_FETCHES]  # pushes fetch nothing

    made.clear()
    page.evaluate("window.passlineBoard.reload()")  # as a reconnect or a catch-up does
    wait_live(page)
    page.wait_for_timeout(500)  # (the panel's fetch once followed the reload 150 ms later)
    assert made == [RELOAD]
    assert page.locator("#attention .att-overdue .att-title").inner_text() == "5 overdue"
    assert page.locator(f'#couriers [data-courier-id="{jonah}"][data-load="1"]').count() == 1
    assert page.errors == [] and page.dialogs == []


def test_a_reconnect_brings_the_strip_and_courier_list_that_changed_meanwhile_and_rebuilds_the_bulk_bar(
        app, live_server, remote, browser, staff_accounts):
    from app.extensions import db
    from app.models import Order
    from tests.helpers import add_couriers

    late = remote.create()
    add_couriers(app, "Jonah Weiss")
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    wait_live(page)
    page.click("#couriers-toggle")  # folded: the reload fills the list and leaves it folded
    assert page.locator("#courier-list").is_hidden()
    assert page.locator("#attention .att-overdue").count() == 0
    made = requests_made(page, live_server.url)

    page.context.set_offline(True)
    page.evaluate("window.passlineBoard.socket.io.engine.close()")
    page.wait_for_selector('#conn[data-state="reconnecting"]')
    with app.app_context():  # while the board hears nothing
        db.session.get(Order, late).overdue_level = 1
        db.session.commit()
    fatima = add_couriers(app, "Fatima Diallo")["Fatima"]
    made.clear()  # (a refused reconnect also tries a reload: is the session gone?)
    page.context.set_offline(False)

    page.wait_for_selector('#attention .att-overdue .att-title:text-is("1 overdue")')
    wait_live(page)
    page.wait_for_selector(f'#courier-list [data-courier-id="{fatima}"]', state="attached")
    options = page.eval_on_selector_all("#bulk-courier option", "os => os.map(o => [o.value, o.text])")
    assert options[1] == [str(fatima), "Fatima Diallo (0 open, no order yet) — suggested"]
    assert len(options) == 3 and options[2][1].startswith("Jonah Weiss (")
    assert page.inner_text("#bulk-suggest").startswith("Suggested: Fatima Diallo")
    assert page.inner_text("#couriers-count") == "2"
    assert page.locator("#courier-list").is_hidden()  # still folded
    assert page.get_attribute("#couriers-toggle", "aria-expanded") == "false"
    assert made and set(made) == {RELOAD}  # the reconnect's reload, and nothing else
    assert page.dialogs == []  # (errors: htmx logs the reloads tried while offline)


def reload_held_back(page, url):
    """Reload the board, its answer held back: the route, to fetch, fulfill or continue."""
    held = []

    def hold(route):
        if route.request.headers.get("hx-request") and not held:
            held.append(route)
        else:
            route.continue_()

    page.route(f"{url}/", hold)
    page.evaluate("window.passlineBoard.reload()")
    for _ in range(50):
        if held:
            return held[0]
        page.wait_for_timeout(100)
    raise AssertionError("the reload was expected")


def test_a_strip_pushed_while_the_board_reloads_is_not_overwritten_by_the_reloads_older_copy(
        live_server, browser, staff_accounts):
    """Strips have no version. The reload's answer is rendered first and held back; strips
    pushed meanwhile (newer) must win over the copies that answer then brings."""
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    wait_live(page)
    held = [reload_held_back(page, live_server.url)]
    answer = held[0].fetch()  # rendered now: older than what is pushed next
    assert 'hx-swap-oob="true" id="attention"' in answer.text()
    page.evaluate("""() => {
        const socket = window.passlineBoard.socket;
        socket.listeners('attention')[0]({html: '<div id="attention" class="attention has-items">'
            + '<span class="att-group" data-pushed>pushed during the reload</span></div>'});
        socket.listeners('couriers')[0]({html: '<ul class="fleet-list"><li class="fleet-courier" '
            + 'data-courier-id="999" data-load="0" data-name="Pushed Courier" data-summary="0 open"></li></ul>'});
    }""")
    held[0].fulfill(response=answer)
    wait_live(page)
    page.wait_for_selector("#attention [data-pushed]")
    assert page.locator('#courier-list [data-courier-id="999"]').count() == 1
    assert page.eval_on_selector_all("#bulk-courier option", "os => os.map(o => o.text)") == [
        "Courier…", "Pushed Courier (0 open) — suggested"]
    assert page.errors == [] and page.dialogs == []


def test_a_card_focused_while_a_reload_is_on_its_way_keeps_the_focus(live_server, remote, browser, staff_accounts):
    """A catch-up reload (or a reconnect's) may take a while on a crowded server; the card
    the dispatcher moves to meanwhile is the one focused when its answer lands."""
    ids = [remote.create() for _ in range(3)]
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    wait_live(page)
    wait_card_in(page, ids[-1], "submitted")
    held = [reload_held_back(page, live_server.url)]
    page.focus(card(page, ids[1]))  # while the reload is on its way
    held[0].continue_()
    wait_live(page)
    page.wait_for_function("id => document.activeElement?.dataset?.orderId === id", arg=ids[1])
    assert page.errors == [] and page.dialogs == []
