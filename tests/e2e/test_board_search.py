"""The board's search box in a real browser: any change of its value re-filters (typing,
a paste with the mouse, the field's own × button), without case or accents, and live pushes
respect it."""
import pytest

from browser import (  # noqa: F401  (fixtures are used by name)
    PASSWORD, browser, card, logged_in, remote, staff_accounts, wait_card_in, wait_live,
)

pytestmark = pytest.mark.browser


def shown(page) -> set:
    return set(page.eval_on_selector_all("#board [data-order-id]", "cards => cards.map(c => c.dataset.orderId)"))


def wait_shown(page, ids) -> None:
    page.wait_for_function("ids => { const shown = [...document.querySelectorAll('#board [data-order-id]')]"
                           ".map(c => c.dataset.orderId).sort(); return JSON.stringify(shown) === JSON.stringify(ids); }",
                           arg=sorted(ids))


def test_any_change_of_the_search_refilters_without_case_or_accents(live_server, remote, browser, staff_accounts):
    muller = remote.create(consumer={"id": 1, "first_name": "Jürgen", "last_name": "Müller"})
    cafe = remote.create(consumer={"id": 2, "first_name": "Zoë", "last_name": "Café"})
    doe = remote.create()
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    wait_live(page)
    assert shown(page) == {muller, cafe, doe}

    page.fill("#q", "Muller")  # as a paste does: an input event, no key pressed
    wait_shown(page, [muller])
    page.wait_for_url("**/?*q=Muller*")
    remote.create()  # pushed first, no match: stays off the filtered board
    pushed = remote.create(consumer={"id": 3, "first_name": "Anna", "last_name": "MÜLLER"})
    wait_card_in(page, pushed, "submitted")
    assert shown(page) == {muller, pushed}
    page.fill("#q", "cafe")
    wait_shown(page, [cafe])

    # The × of a search field empties it with an input and a search event, no keyup.
    page.evaluate("""() => { const q = document.getElementById('q'); q.value = '';
        q.dispatchEvent(new Event('input', {bubbles: true})); q.dispatchEvent(new Event('search', {bubbles: true})); }""")
    page.wait_for_function("() => document.querySelectorAll('#board [data-order-id]').length === 5")
    assert page.errors == [] and page.dialogs == []
