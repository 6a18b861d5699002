"""Staff actions from the board's forms (htmx or plain POST), one order or several.

Every action goes through app/services/actions.py (lifecycle, audit, OneTablet call, live push).
A refused action answers the detail again with the reason inline and changes nothing;
a plain (non-htmx) POST that worked is answered 303."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..services import actions, effects
from ..infra import ids
from ..domain import labels
from ..extensions import db
from ..domain.lifecycle import CANCEL_REASONS
from ..models import OutboxMessage
from ..infra.htmx import is_htmx
from .routes import bp, render_detail, respond


class FormError(actions.ActionError):
    """The form itself is incomplete (answered 422)."""

    def __init__(self, message: str):
        super().__init__(message, 422)


def _cancel_args(form) -> dict:
    reason = form.get("reason", "")
    details = (form.get("details") or "").strip() or None
    if reason not in CANCEL_REASONS:
        raise FormError(f"Choose a cancel reason: {', '.join(labels.label('cancel_reason', r) for r in CANCEL_REASONS)}.")
    if reason == "OTHER" and not details:
        raise FormError("Say what happened: the reason “Other” needs details.")
    return {"reason": reason, "details": details}


def _courier_id(form) -> int:
    courier_id = ids.parse(form.get("courier_id"))
    if courier_id is None:
        raise FormError("Choose a courier.")
    return courier_id


NOTHING = "Already so: nothing changed."


def _said(outcome, message: str) -> str:
    return message if outcome.changed else NOTHING


def _cancel(order_id, form, actor):
    return _said(actions.cancel(order_id, actor=actor, **_cancel_args(form)), "Cancelled; OneTablet will be told.")


def _assign(order_id, form, actor):
    return _said(actions.assign_courier(order_id, courier_id=_courier_id(form), actor=actor),
                 "Courier assigned; OneTablet will be told.")


def _bulk_assign(order_id, form, actor):
    # Several orders at once: one another courier holds is skipped unless the dispatcher
    # ticked "reassign" for the batch (contract §3.4). One order's own form reassigns.
    return _said(actions.assign_courier(order_id, courier_id=_courier_id(form), actor=actor,
                                        reassign=form.get("reassign") == "1"),
                 "Courier assigned; OneTablet will be told.")


def _courier_status(order_id, form, actor):
    status = form.get("status", "")
    return _said(actions.courier_status(order_id, status=status, actor=actor),
                 f"Courier status now: {labels.label('courier_status', status)}.")


def _picked_up(order_id, form, actor):
    return _said(actions.picked_up(order_id, actor=actor), "Marked picked up.")


def _override(order_id, form, actor):
    if not current_user.can("manager"):
        raise actions.ActionError("Only a manager can override an order.", 403)
    reason = (form.get("reason") or "").strip()
    if not reason:
        raise FormError("An override needs a reason.")
    outcome = actions.override(order_id, to_state=form.get("to_state", ""), reason=reason, actor=actor)
    told = any(effects.cancels_an_open_order(change) for change in outcome.changes)
    return _said(outcome, "Override applied; OneTablet will be told of the cancellation." if told
                 else "Override applied.")


def _acknowledge(order_id, form, actor):
    return _said(actions.acknowledge(order_id, actor=actor), "Acknowledged.")


def _retry(order_id, form, actor):
    message_id = ids.parse(form.get("message_id"))
    message = db.session.get(OutboxMessage, message_id) if message_id else None
    if message is None or message.order_id != order_id:
        raise FormError("That call is not one of this order's.")
    actions.retry_call(message.id, actor=actor)  # audits, pushes and commits
    return "Call queued again."


ACTIONS: dict[str, Callable] = {
    "cancel": _cancel,
    "courier": _assign,
    "courier-status": _courier_status,
    "picked-up": _picked_up,
    "override": _override,
    "acknowledge": _acknowledge,
    "retry": _retry,
}


@bp.post("/orders/<order_id:order_id>/<any(" + ", ".join(f'"{a}"' for a in ACTIONS) + "):action>")
@login_required
def order_action(order_id, action):
    """Apply one staff action to one order, then show its detail again."""
    try:
        notice = ACTIONS[action](order_id, request.form, current_user.actor)
    except actions.ActionError as refusal:  # the refused form's values stay in it, to be fixed
        return render_detail(order_id, status=refusal.status, error=str(refusal),
                             refused_form=lambda name: request.form if name == action else {})
    if not is_htmx():
        flash(notice)
        return redirect(url_for("board.order_detail", order_id=order_id), code=303)
    return render_detail(order_id, notice=notice)


@dataclass
class Result:
    order_id: str
    ok: bool
    message: str
    skipped: bool = False  # left as it was on purpose (held by another courier), not refused


# Each bulk action with the check of its form: run once before any order, so an
# incomplete form is one error and changes nothing, not the same refusal per order.
BULK = {"courier": (_bulk_assign, _courier_id), "cancel": (_cancel, _cancel_args)}


@bp.post("/orders/bulk")
@login_required
def bulk():
    """Apply one action to every selected order, each on its own; show each one's result."""
    action, check = BULK.get(request.form.get("action", ""), (None, None))
    order_ids = list(dict.fromkeys(i for i in request.form.getlist("order_ids") if i))
    results = []
    try:
        if action is None or not order_ids:
            raise FormError("Choose an action and at least one order.")
        check(request.form)
    except FormError as refusal:
        status, error = refusal.status, str(refusal)
    else:
        status, error = 200, None
        for order_id in order_ids:
            try:
                results.append(Result(order_id, True, action(order_id, request.form, current_user.actor)))
            except actions.Skipped as skipped:
                results.append(Result(order_id, False, f"Skipped: {skipped}", skipped=True))
            except actions.ActionError as refusal:
                results.append(Result(order_id, False, str(refusal)))
    if not is_htmx():
        flash(error or f"{sum(r.ok for r in results)} of {len(results)} orders done. " + " ".join(
            f"{r.order_id}: {r.message}" for r in results if not r.ok))
        return redirect(url_for("board.index"), code=303)
    return respond(render_template("board/_bulk_result.html", results=results, error=error), status)
