"""/stores: every store, paused or open (reason, resume time in the store's own time zone),
its 86'd items and its menu; an admin may add a store before OneTablet speaks of it."""
from datetime import datetime, timezone

import pytest

from app.extensions import db
from app.models import Store
from tests.helpers import MENU

pytestmark = pytest.mark.usefixtures("fast_passwords")  # many logins per module


def store_block(page: str, store_id: str) -> str:
    start = page.index(f'data-store="{store_id}"')
    return page[start:page.index("</article>", start)]


def test_a_paused_store_shows_its_reason_and_resume_time_in_its_local_time(hook, menu, staff, monkeypatch):
    body = {"is_active": False, "reason": "Kitchen fire drill", "resume_at": "2026-11-28T23:30:00Z"}
    assert hook.send("PATCH", f"/stores/{menu}/status", body).status_code == 200
    monkeypatch.setattr("app.infra.clock.now", lambda: datetime(2026, 11, 28, 20, 0, tzinfo=timezone.utc))
    staff.login()
    block = store_block(staff.get("/stores").get_data(as_text=True), menu)
    assert 'data-status="paused"' in block and "Kitchen fire drill" in block
    assert "resumes Sat 2026-11-28 18:30 EST" in block  # America/New_York, the default zone


def test_a_store_past_its_resume_time_and_still_paused_says_it_is_overdue_to_reopen(hook, menu, staff,
                                                                                   monkeypatch):
    body = {"is_active": False, "reason": "Kitchen fire drill", "resume_at": "2026-11-28T23:30:00Z"}
    assert hook.send("PATCH", f"/stores/{menu}/status", body).status_code == 200
    monkeypatch.setattr("app.infra.clock.now", lambda: datetime(2026, 11, 29, 1, 0, tzinfo=timezone.utc))
    staff.login()
    block = store_block(staff.get("/stores").get_data(as_text=True), menu)
    assert "was due to reopen at Sat 2026-11-28 18:30 EST" in block and "resumes" not in block


def test_an_open_store_says_so_and_the_counts_add_up(hook, menu, staff):
    hook.menu("store-2", MENU)
    hook.store_status("store-2", False, reason="Closed early")
    staff.login()
    page = staff.get("/stores").get_data(as_text=True)
    assert 'data-status="open"' in store_block(page, menu)
    assert '<span data-count="stores">2 stores</span>' in page
    assert '<span data-count="paused">1 paused</span>' in page


def test_86d_items_are_listed_and_struck_through_on_the_menu(hook, menu, staff):
    assert hook.items(menu, {"fries": False}).status_code == 200
    staff.login()
    block = store_block(staff.get("/stores").get_data(as_text=True), menu)
    eighty_sixed = block[block.index("data-eighty-sixed"):block.index("</div>", block.index("data-eighty-sixed"))]
    assert 'data-item="fries"' in eighty_sixed and "burger" not in eighty_sixed
    assert '<tr class="unavailable">\n            <td>Fries</td>' in block


def test_the_menu_is_shown_by_category_with_prices(menu, staff):
    staff.login()
    block = store_block(staff.get("/stores").get_data(as_text=True), menu)
    assert block.index("<h4>Burgers</h4>") < block.index("Smash Burger") < block.index("<h4>Drinks</h4>")
    assert block.index("<h4>Drinks</h4>") < block.index("Cola")
    assert "$12.00" in block and "$4.50" in block and "$3.00" in block
    assert "Menu (3 items)" in block


def test_an_admin_adds_a_store_by_hand(app, staff):
    staff.login("admin")
    response = staff.post("/stores", {"merchant_supplied_id": "store-9", "name": "Noodle Bar",
                                      "timezone": "Europe/Paris"})
    assert response.status_code == 303
    with app.app_context():
        store = db.session.query(Store).filter_by(merchant_supplied_id="store-9").one()
        assert (store.name, store.timezone, store.is_active) == ("Noodle Bar", "Europe/Paris", True)
    block = store_block(staff.get("/stores").get_data(as_text=True), "store-9")
    assert "Noodle Bar" in block and "Europe/Paris" in block and "no menu pushed yet" in block


def test_a_store_added_by_hand_is_known_to_onetablets_webhooks(hook, staff):
    staff.login("admin")
    staff.post("/stores", {"merchant_supplied_id": "store-9", "name": "Noodle Bar", "timezone": "UTC"})
    response = hook.items("store-9", {"ramen": False})
    assert response.status_code == 200, response.get_json()  # the store is known; ramen is kept for its menu


@pytest.mark.parametrize("form, field, message", [
    ({"merchant_supplied_id": "s-1", "name": "X", "timezone": "Mars/Olympus"}, "timezone", "IANA time zone"),
    ({"merchant_supplied_id": "s-1", "name": "X", "timezone": "../../etc/passwd"}, "timezone", "IANA time zone"),
    ({"merchant_supplied_id": "", "name": "X", "timezone": "UTC"}, "merchant_supplied_id", "Enter the id"),
    ({"merchant_supplied_id": "has space", "name": "X", "timezone": "UTC"}, "merchant_supplied_id", "without spaces"),
    ({"merchant_supplied_id": "store-1", "name": "X", "timezone": "UTC"}, "merchant_supplied_id", "already known"),
    ({"merchant_supplied_id": "s-1", "name": "", "timezone": "UTC"}, "name", "Enter the store"),
])
def test_a_wrong_store_field_is_refused_inline_and_nothing_is_added(app, menu, staff, form, field, message):
    staff.login("admin")
    response = staff.post("/stores", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page[page.index(f'data-error="{field}"'):][:200]
    with app.app_context():
        assert db.session.query(Store).count() == 1


def test_only_admins_add_stores(app, staff):
    staff.login("manager")
    assert 'id="add-store"' not in staff.get("/stores").get_data(as_text=True)
    response = staff.post("/stores", {"merchant_supplied_id": "s-1", "name": "X", "timezone": "UTC"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.query(Store).count() == 0
