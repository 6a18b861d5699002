"""/couriers: the fleet — add, deactivate (with a warning when carrying), reactivate, and
who is carrying what."""
import pytest

from app.services import actions
from app.extensions import db
from app.models import Courier

pytestmark = pytest.mark.usefixtures("fast_passwords")  # many logins per module


def add_courier(app, name="Mike Rivera", phone="+15559876543", active=True) -> int:
    with app.app_context():
        courier = Courier(name=name, phone=phone, is_active=active)
        db.session.add(courier)
        db.session.commit()
        return courier.id


def carry(app, hook, order_id, courier_id, status=None):
    """Confirm the order, assign the courier, optionally post a courier status."""
    assert hook.confirm(order_id).status_code == 200
    with app.app_context():
        actions.assign_courier(order_id, courier_id=courier_id, actor="staff:test")
        if status:
            actions.courier_status(order_id, status=status, actor="staff:test")


def courier_row(page: str, courier_id: int) -> str:
    start = page.index(f'data-courier-id="{courier_id}"')
    return page[start:page.index("</tr>", start)]


def test_a_dispatcher_adds_a_courier_who_is_active_at_once_with_the_phone_kept_as_e164(app, staff):
    staff.login()
    response = staff.post("/couriers", {"name": "Ana Lopez", "phone": "+1 555 222 3333"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/couriers")
    with app.app_context():
        [courier] = db.session.query(Courier).all()
        assert (courier.name, courier.phone, courier.is_active) == ("Ana Lopez", "+15552223333", True)
    page = staff.get("/couriers").get_data(as_text=True)
    assert "Ana Lopez" in page and "Added Ana Lopez." in page


@pytest.mark.parametrize("form, field, message", [
    ({"name": "", "phone": "+15551234567"}, "name", "Enter the courier&#39;s name."),
    ({"name": "Ana", "phone": ""}, "phone", "Enter a phone number"),
    ({"name": "Ana", "phone": "call me maybe"}, "phone", "A phone number is digits"),
    ({"name": "Ana", "phone": "12"}, "phone", "Not a phone number: too few digits for a US number"),
    ({"name": "Ana", "phone": "0000000"}, "phone", "all its digits are the same"),
    ({"name": "Ana", "phone": "+1-------0000000"}, "phone", "all its digits are the same"),
    ({"name": "Ana", "phone": "+1 555 123 4567 8901 2"}, "phone", "Not a phone number: too many digits for a US number"),
    ({"name": "Ana", "phone": "555-9876"}, "phone", "Add the area code"),
    ({"name": "Ana", "phone": "+999 1234567"}, "phone", "its country code is not one in use"),
])
def test_a_wrong_field_is_refused_with_its_message_next_to_it(app, staff, form, field, message):
    staff.login()
    response = staff.post("/couriers", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error = page[page.index(f'data-error="{field}"'):]
    assert message in error[:200]
    assert f'id="courier-{field}"' in page and 'aria-invalid="true"' in page
    with app.app_context():
        assert db.session.query(Courier).count() == 0


def test_an_active_courier_with_the_same_phone_is_refused_naming_them(app, staff):
    staff.login()
    assert staff.post("/couriers", {"name": "Jonah Weiss", "phone": "+1 555 987 6543"}).status_code == 303
    response = staff.post("/couriers", {"name": "Jonah Weiss", "phone": "+1 (555) 987-6543"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Jonah Weiss already has this number (+15559876543) and is active." in page
    with app.app_context():
        assert db.session.query(Courier).count() == 1
        db.session.query(Courier).one().is_active = False
        db.session.commit()
    # Once that courier is inactive, the number may be used again (a courier who came back).
    assert staff.post("/couriers", {"name": "Jonah Weiss", "phone": "+15559876543"}).status_code == 303


@pytest.mark.parametrize("typed, region, kept", [
    ("(555) 987-6543", "US", "+15559876543"),     # a national number, in the default region
    ("+1 555.987.6543", "US", "+15559876543"),
    ("020 7946 0958", "GB", "+442079460958"),     # PHONE_REGION=GB reads it as a London number
    ("+44 20 7946 0958", "US", "+442079460958"),  # a + number whatever the region
])
def test_phones_are_kept_as_e164_read_in_the_phone_region(app, staff, typed, region, kept):
    app.config["PHONE_REGION"] = region
    staff.login()
    assert staff.post("/couriers", {"name": "Ana Lopez", "phone": typed}).status_code == 303
    with app.app_context():
        assert db.session.query(Courier).one().phone == kept


def test_an_htmx_add_answers_only_the_fleet_section(staff):
    staff.login()
    response = staff.post("/couriers", {"name": "Ana Lopez", "phone": "+15552223333"}, htmx=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert page.lstrip().startswith('<section id="fleet"') and "<html" not in page
    assert "Ana Lopez" in page
    refused = staff.post("/couriers", {"name": "", "phone": "x"}, htmx=True)
    assert refused.status_code == 422 and 'data-error="name"' in refused.get_data(as_text=True)
    assert refused.get_data(as_text=True).lstrip().startswith('<section id="fleet"')


def test_the_fleet_shows_who_carries_which_open_order_with_its_state_and_courier_status(
        app, hook, api, menu, staff):
    from tests.helpers import order_body

    mike, ana, idle = (add_courier(app, n) for n in ("Mike Rivera", "Ana Lopez", "Idle Ian"))
    first, second, done = (order_body() for _ in range(3))
    for body in (first, second, done):
        assert api.create(body).status_code == 201
    carry(app, hook, first["id"], mike, status="arrived_at_store")
    carry(app, hook, second["id"], mike)
    carry(app, hook, done["id"], ana, status="dropoff")  # completed: carried no longer
    staff.login()
    page = staff.get("/couriers").get_data(as_text=True)

    row = courier_row(page, mike)
    assert first["id"] in row and second["id"] in row
    assert "At store" in row and "Assigned" in row and "Confirmed" in row  # labels, not codes
    assert "arrived_at_store" not in row and "dasher_confirmed" not in row
    assert done["id"] not in page
    assert "nothing" in courier_row(page, ana) and "nothing" in courier_row(page, idle)
    assert '<span data-count="active">3 active</span>' in page
    assert '<span data-count="busy">1 carrying</span>' in page
    assert '<span data-count="orders">2 open orders carried</span>' in page


def test_deactivating_a_courier_who_carries_an_order_asks_first_and_names_the_orders(
        app, hook, submitted, staff):
    mike = add_courier(app)
    carry(app, hook, submitted, mike)
    staff.login()

    warned = staff.post(f"/couriers/{mike}/deactivate")
    page = warned.get_data(as_text=True)
    assert warned.status_code == 409 and 'data-warning="deactivate"' in page
    assert submitted in page[page.index('data-warning="deactivate"'):] and "Deactivate anyway" in page
    with app.app_context():
        assert db.session.get(Courier, mike).is_active

    confirmed = staff.post(f"/couriers/{mike}/deactivate", {"confirm": "yes"})
    assert confirmed.status_code == 303
    with app.app_context():
        assert not db.session.get(Courier, mike).is_active
    page = staff.get("/couriers").get_data(as_text=True)
    assert "still carry 1 order(s) until reassigned" in page
    assert submitted in courier_row(page, mike)  # still carrying it, until reassigned


def test_a_free_courier_is_deactivated_at_once_and_can_come_back(app, staff):
    mike = add_courier(app)
    staff.login()
    assert staff.post(f"/couriers/{mike}/deactivate").status_code == 303
    with app.app_context():
        assert not db.session.get(Courier, mike).is_active
    assert 'class="inactive"' in courier_row(staff.get("/couriers").get_data(as_text=True), mike) + 'class="inactive"'
    assert staff.post(f"/couriers/{mike}/reactivate").status_code == 303
    with app.app_context():
        assert db.session.get(Courier, mike).is_active


def test_a_deactivated_courier_can_no_longer_be_assigned(app, hook, submitted, staff):
    mike = add_courier(app)
    staff.login()
    staff.post(f"/couriers/{mike}/deactivate")
    assert hook.confirm(submitted).status_code == 200
    with app.app_context(), pytest.raises(actions.ActionError, match="active courier"):
        actions.assign_courier(submitted, courier_id=mike, actor="staff:test")


def test_an_unknown_courier_is_404(staff):
    staff.login()
    assert staff.post("/couriers/999/deactivate").status_code == 404
