"""A board's reload (a reconnect, a catch-up, a "courier" push, a filter) is one request: the
htmx answer of `/` carries the columns and, out of band (hx-swap-oob), the attention strip
and the courier panel's list, as their own fragments render them, so a deploy's thousand
reconnects are a thousand requests, not three thousand."""
import pytest

from app.extensions import db
from app.infra import live
from app.infra.htmx import replacing
from app.models import Order
from tests.helpers import add_couriers, order_body

pytestmark = pytest.mark.usefixtures("fast_passwords")

STRIP = '<div hx-swap-oob="true" id="attention"'
LIST = '<div id="courier-list" hx-swap-oob="innerHTML">'


@pytest.fixture
def dispatcher(staff):
    return staff.login("dispatcher")


def parts(answer: str) -> tuple[str, str, str]:
    """The columns, the attention strip and the courier list's content of a reload's answer."""
    columns, rest = answer.split(STRIP)
    strip, couriers = rest.split(LIST)
    assert couriers.endswith("</div>")
    return columns, STRIP + strip, couriers[:-len("</div>")]


def overdue_order(app, api) -> str:
    body = order_body()
    assert api.create(body).status_code == 201
    with app.app_context():
        order = db.session.get(Order, body["id"])
        order.overdue_level, order.overdue_limit = 1, "confirmation"
        db.session.commit()
    return body["id"]


def test_a_board_reload_carries_the_strip_and_the_courier_list_out_of_band_as_they_are_now(
        app, dispatcher, api, menu):
    late = overdue_order(app, api)
    fatima = add_couriers(app, "Fatima Diallo")["Fatima"]
    assert live.drain(app)

    columns, strip, couriers = parts(dispatcher.get("/", htmx=True).get_data(as_text=True))

    assert columns.lstrip().startswith('<div id="board"') and "hx-swap-oob" not in columns
    assert late in columns
    assert 'class="attention has-items"' in strip and "1 overdue" in strip and late in strip
    assert f'data-courier-id="{fatima}"' in couriers and "Fatima Diallo" in couriers
    # The same renders the fragments answer (still there for other clients), marked, not redone.
    assert strip == replacing(dispatcher.get("/board/attention", htmx=True).get_data(as_text=True))
    assert couriers == dispatcher.get("/board/couriers", htmx=True).get_data(as_text=True)


def test_a_filtered_board_still_carries_the_whole_strip(app, dispatcher, api, menu):
    late = overdue_order(app, api)
    add_couriers(app, "Fatima Diallo")
    assert live.drain(app)

    columns, strip, couriers = parts(dispatcher.get("/?q=nobody-by-this-name", htmx=True).get_data(as_text=True))

    assert late not in columns and "data-no-match" in columns
    assert late in strip and "1 overdue" in strip  # the strip is every board's, whatever its filters
    assert "Fatima Diallo" in couriers


def test_the_whole_page_is_as_it_was_without_out_of_band_pieces(app, dispatcher, api, menu):
    late = overdue_order(app, api)
    page = dispatcher.get("/").get_data(as_text=True)
    assert "hx-swap-oob" not in page
    assert page.count('id="attention"') == 1 and page.count('id="courier-list"') == 1 and late in page
