"""How a page tells an htmx request from a plain one, and how an answer carries pieces for
elsewhere on the page (out of band): one rule for every blueprint."""
import re

from flask import request


def is_htmx() -> bool:
    """An htmx request that wants a fragment. A history restore (Back to a page htmx no
    longer has cached) wants the whole page."""
    return request.headers.get("HX-Request") == "true" and "HX-History-Restore-Request" not in request.headers


# Both take and give plain strings of HTML the app rendered (a Markup here would escape the
# str it is added to).
_ROOT_TAG = re.compile(r"\s*<[a-zA-Z][\w-]*")


def replacing(fragment: str) -> str:
    """`fragment` (one element with an id) marked to replace the page's element of that id,
    whatever the answer's own target (htmx 2: hx-swap-oob="true" on the root, an outerHTML
    swap by id; the root's own attributes, class included, come with it). The fragment is a
    render shared with other answers (app/board/reloads.py), so the mark is added to its
    first tag rather than rendered into it."""
    root = _ROOT_TAG.match(fragment)
    if root is None:
        raise ValueError("an out-of-band replacement is one element")
    return f'{fragment[:root.end()]} hx-swap-oob="true"{fragment[root.end():]}'


def filling(element_id: str, content: str) -> str:
    """`content` to become the children of the page's element `element_id`, whatever the
    answer's own target (htmx 2: hx-swap-oob="innerHTML" moves this div's children into
    that element and drops the div, so the element keeps its own attributes: hidden, hx-*,
    what a script set on it)."""
    return f'<div id="{element_id}" hx-swap-oob="innerHTML">{content}</div>'
