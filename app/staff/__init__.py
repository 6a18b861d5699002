"""Staff pages around the board: the fleet (/couriers), stores (/stores), refunds
(/refunds), the webhook log (/webhooks) and staff accounts (/users). One blueprint per
page; pages.py holds what they share (answering htmx or a full page, times), and the
template filters for times are registered here (money and order links are the board's)."""
from __future__ import annotations


def register(app) -> None:
    from . import courier_phones, couriers, pages, refunds, stores, users, webhook_log

    for module in (couriers, courier_phones, stores, refunds, webhook_log, users):
        app.register_blueprint(module.bp)
    app.jinja_env.filters.update(staff_utc=pages.utc, staff_local=pages.local)
