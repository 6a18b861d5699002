"""/webhooks: every webhook received with its verdict, filterable by order, verdict and kind,
its raw body and headers on demand, paginated — "did OneTablet tell us?"."""
import pytest
import json
import re
from datetime import datetime, timezone

from app.infra import clock
from app.extensions import db
from app.models import WebhookReceipt
from app.board.cards import order_url
from app.staff.webhook_log import PAGE_SIZE

pytestmark = pytest.mark.usefixtures("fast_passwords")  # many logins per module


def receipt_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tbody data-receipt-id="(\d+)">', page)]


def row_of(page: str, receipt_id: int) -> str:
    start = page.index(f'data-receipt-id="{receipt_id}"')
    return page[start:page.index("</tbody>", start)]


def latest(app, **filters) -> WebhookReceipt:
    with app.app_context():
        return db.session.query(WebhookReceipt).filter_by(**filters).order_by(WebhookReceipt.id.desc()).first()


def test_every_webhook_is_listed_newest_first_with_its_verdict_and_status(app, hook, submitted, staff):
    hook.confirm(submitted, webhook_id="msg_first")
    hook.confirm(submitted, webhook_id="msg_first")  # OneTablet's retry: a duplicate
    hook.ready("no-such-order")  # 404, refused
    bad = hook.client.patch(f"/onetablet/orders/{submitted}", data="{}",
                            headers={"Content-Type": "application/json"})  # unsigned: 401
    assert bad.status_code == 401
    staff.login()
    page = staff.get("/webhooks").get_data(as_text=True)
    ids = receipt_ids(page)
    assert len(ids) == 5 and ids == sorted(ids, reverse=True)  # the menu push is the 5th
    newest, refused_404, duplicate, applied = (row_of(page, i) for i in ids[:4])
    assert 'data-verdict="refused"' in newest and "401" in newest and "bad_signature" in newest
    assert 'data-verdict="refused"' in refused_404 and "404" in refused_404 and "unknown_order" in refused_404
    assert 'data-verdict="duplicate"' in duplicate and "200" in duplicate
    assert 'data-verdict="applied"' in applied and "order_confirmation" in applied
    with app.test_request_context():
        assert f'href="{order_url(submitted)}"' in applied  # straight to the order on the board


def test_filtering_by_order_shows_only_that_orders_webhooks(app, hook, api, menu, staff):
    from tests.helpers import order_body

    mine, other = order_body(), order_body()
    api.create(mine), api.create(other)
    hook.confirm(mine["id"]), hook.confirm(other["id"]), hook.ready(mine["id"])
    staff.login()
    page = staff.get("/webhooks", query_string={"order": mine["id"]}).get_data(as_text=True)
    rows = [row_of(page, i) for i in receipt_ids(page)]
    assert len(rows) == 2 and all(mine["id"] in r for r in rows)
    assert other["id"] not in "".join(rows)


def test_filtering_by_verdict_and_kind(hook, submitted, staff):
    hook.confirm(submitted, webhook_id="msg_1")
    hook.confirm(submitted, webhook_id="msg_1")
    hook.ready("no-such-order")
    staff.login()
    duplicates = staff.get("/webhooks?verdict=duplicate").get_data(as_text=True)
    assert len(receipt_ids(duplicates)) == 1
    menus = staff.get("/webhooks?kind=store_menu").get_data(as_text=True)
    assert len(receipt_ids(menus)) == 1 and "store-1" in menus
    both = staff.get("/webhooks?kind=order_ready&verdict=refused").get_data(as_text=True)
    assert len(receipt_ids(both)) == 1 and "unknown_order" in both
    ignored = staff.get("/webhooks?verdict=<script>").get_data(as_text=True)  # unknown: no filter
    assert len(receipt_ids(ignored)) == 4


def test_a_filter_the_log_cannot_apply_is_said_not_silently_dropped(hook, submitted, staff):
    staff.login()
    page = staff.get("/webhooks?verdict=aplied&kind=order_ready").get_data(as_text=True)
    [said] = re.findall(r"<p[^>]*data-ignored-filter>(.*?)</p>", page)
    assert "No verdict “aplied”" in said and "applied" in said  # the bad one, and what it could be
    assert "No kind" not in page  # the good filter is applied, and not complained of
    assert staff.get("/webhooks?verdict=applied").get_data(as_text=True).count("data-ignored-filter") == 0
    escaped = staff.get("/webhooks?kind=<script>x</script>").get_data(as_text=True)
    assert "<script>x</script>" not in escaped and "No kind “&lt;script&gt;x&lt;/script&gt;”" in escaped


def test_the_raw_body_and_headers_open_on_demand(app, hook, submitted, staff):
    hook.cancel(submitted, reason="OTHER", details="fryer broke", webhook_id="msg_cancel_1")
    receipt = latest(app, kind="order_cancellation")
    staff.login()
    log = staff.get("/webhooks").get_data(as_text=True)
    assert "fryer broke" not in log  # the body is not on the list
    assert f'hx-get="/webhooks/{receipt.id}"' in log

    fragment = staff.get(f"/webhooks/{receipt.id}", htmx=True)
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text
    assert "fryer broke" in text and "msg_cancel_1" in text and "webhook-signature" in text.lower()
    raw = text[text.index('<pre class="body-raw">') + len('<pre class="body-raw">'):]
    assert json.loads(raw[:raw.index("</pre>")].replace("&#34;", '"')) == {
        "cancel_reason": "OTHER", "cancel_details": "fryer broke"}

    full = staff.get(f"/webhooks/{receipt.id}").get_data(as_text=True)
    assert "<html" in full and "fryer broke" in full


def test_a_body_that_is_not_json_is_shown_as_received(app, hook, submitted, staff):
    hook.send("PATCH", f"/orders/{submitted}", "not json {")
    receipt = latest(app, verdict="refused")
    staff.login()
    text = staff.get(f"/webhooks/{receipt.id}", htmx=True).get_data(as_text=True)
    assert '<pre class="body-raw">not json {</pre>' in text and "not_json" in text


def test_pages_of_fifty_go_back_in_time_without_gaps_or_repeats(app, staff):
    with app.app_context():
        now = clock.now()
        db.session.add_all([
            WebhookReceipt(received_at=now, method="PATCH", path=f"/onetablet/orders/o-{n}", kind="order_ready",
                           order_id=f"o-{n}", headers={}, body="{}", verdict="applied", status_code=200)
            for n in range(PAGE_SIZE + 12)])
        db.session.commit()
    staff.login()
    first = staff.get("/webhooks").get_data(as_text=True)
    older = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = staff.get(older).get_data(as_text=True)
    assert len(receipt_ids(first)) == PAGE_SIZE and len(receipt_ids(second)) == 12
    assert not set(receipt_ids(first)) & set(receipt_ids(second))
    assert 'rel="next"' not in second and "Newest" in second


def test_paging_keeps_the_filters(app, staff):
    with app.app_context():
        db.session.add_all([
            WebhookReceipt(method="PATCH", path="/x", kind="order_ready", order_id=f"o-{n % 2}", headers={},
                           body="{}", verdict="applied", status_code=200)
            for n in range(2 * PAGE_SIZE + 4)])
        db.session.commit()
    staff.login()
    first = staff.get("/webhooks?order=o-1").get_data(as_text=True)
    older = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "order=o-1" in older
    second = staff.get(older).get_data(as_text=True)
    assert len(receipt_ids(second)) == 2 and "o-0" not in second


def test_an_unknown_receipt_is_404(staff):
    staff.login()
    assert staff.get("/webhooks/999999").status_code == 404


def test_an_orders_detail_links_to_what_onetablet_sent_about_it(auth, hook, submitted, client):
    """A dispatcher asking "did OneTablet tell us?" goes from the order to its webhooks."""
    from urllib.parse import quote

    auth.login()
    hook.confirm(submitted)
    detail = client.get(f"/orders/{quote(submitted, safe='')}").get_data(as_text=True)
    link = f'href="/webhooks?order={quote(submitted, safe="")}"'
    assert link in detail
    log = client.get(f"/webhooks?order={quote(submitted, safe='')}").get_data(as_text=True)
    assert "order_confirmation" in log or "applied" in log


def test_received_times_are_utc_instants_said_so_and_shown_local_by_our_script(app, staff):
    """The server writes UTC, labelled (right without JavaScript); static/js/times.js shows
    it in the viewer's zone (tests/e2e/test_webhook_log_times.py), the UTC time on hover."""
    at = datetime(2026, 12, 8, 15, 4, 5, 678901, tzinfo=timezone.utc)
    with app.app_context():
        db.session.add(WebhookReceipt(received_at=at, method="PATCH", path="/onetablet/orders/o-1", kind="order_ready",
                                      order_id="o-1", headers={}, body="{}", verdict="applied", status_code=200))
        db.session.commit()
        receipt_id = latest(app).id
    staff.login()
    utc = ('<time datetime="2026-12-08T15:04:05Z" title="2026-12-08 15:04:05 UTC" data-viewer-time>'
           "2026-12-08 15:04:05 UTC</time>")
    for page in (staff.get("/webhooks").get_data(as_text=True), staff.get(f"/webhooks/{receipt_id}").get_data(as_text=True)):
        assert utc in page
        assert '<script src="/static/js/times.js" defer></script>' in page  # no inline script: the CSP
    log = staff.get("/webhooks", htmx=True).get_data(as_text=True)  # a filter's swap
    assert utc in row_of(log, receipt_id) and "<p class=\"muted\" data-viewer-zone>Times in UTC" in log
    assert utc in staff.get(f"/webhooks/{receipt_id}", htmx=True).get_data(as_text=True)  # a "raw" row's body
