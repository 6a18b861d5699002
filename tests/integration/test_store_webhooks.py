"""Store webhooks: pause / resume, 86 an item, replace the menu."""
from datetime import datetime, timedelta, timezone

from app.extensions import db
from app.models import MenuItem, Store
from tests.helpers import order_body


def store(app, ref="store-1"):
    with app.app_context():
        s = db.session.query(Store).filter_by(merchant_supplied_id=ref).one()
        return s.is_active, s.pause_reason, {i.merchant_supplied_id: (i.is_available, i.on_menu, i.price)
                                             for i in s.items}


def test_status_from_onetablet_makes_a_store_known(app, hook):
    assert hook.store_status("new-store", False, reason="Closed for a private event").status_code == 200
    assert store(app, "new-store")[:2] == (False, "Closed for a private event")


def test_an_older_status_arriving_late_does_not_undo_a_newer_one(app, hook, menu):
    now = datetime.now(timezone.utc)
    hook.store_status(menu, True, timestamp=now)
    response = hook.store_status(menu, False, reason="stale", timestamp=now - timedelta(seconds=30))
    assert response.status_code == 200 and response.get_json()["status"] == "duplicate"
    assert store(app)[0] is True


def test_86_an_item_and_bring_it_back(app, hook, menu):
    hook.items(menu, {"fries": False})
    assert store(app)[2]["fries"][0] is False
    hook.items(menu, {"fries": True})
    assert store(app)[2]["fries"][0] is True


def test_an_86_naming_items_not_on_the_menu_still_86s_the_others(app, hook, menu):
    response = hook.items(menu, {"fries": False, "caviar": False})
    assert response.status_code == 200 and "not on this store's menu" in response.get_json()["detail"]
    assert "caviar" in response.get_json()["detail"]
    items = store(app)[2]
    assert items["fries"] == (False, True, 450)
    assert items["caviar"][:2] == (False, False)  # remembered off the menu: not orderable


def test_an_86_before_the_menu_holds_once_the_menu_brings_the_item(app, hook, api, menu):
    hook.items(menu, {"shake": False})
    new_menu = [{"name": "Mains", "items": [{"merchant_supplied_id": "burger", "name": "Burger", "price": 1200},
                                            {"merchant_supplied_id": "shake", "name": "Shake", "price": 600}]}]
    assert hook.menu(menu, new_menu).status_code == 200
    assert store(app)[2]["shake"] == (False, True, 600)
    body = order_body()
    body["categories"][0]["items"] = [{"merchant_supplied_id": "shake", "quantity": 1, "price": 600}]
    assert api.create(body).status_code == 409  # item_unavailable


def test_a_new_menu_replaces_the_old_and_keeps_86s(app, hook, menu):
    hook.items(menu, {"fries": False})
    new_menu = [{"name": "Mains", "items": [
        {"merchant_supplied_id": "burger", "name": "Smash Burger", "price": 1300},
        {"merchant_supplied_id": "fries", "name": "Fries", "price": 450},
        {"merchant_supplied_id": "shake", "name": "Shake", "price": 600}]}]
    assert hook.menu(menu, new_menu).status_code == 200
    items = store(app)[2]
    assert items["burger"] == (True, True, 1300)
    assert items["fries"] == (False, True, 450)  # still 86'd
    assert items["shake"] == (True, True, 600)
    assert items["cola"][1] is False  # off the menu, kept for old orders
    with app.app_context():
        assert db.session.query(MenuItem).count() == 4
