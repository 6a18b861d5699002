"""The board's search rule, in one place: a card's data-search text, the query, and the
server's filtered board (`?q=`) are all folded by `fold`, so "muller" finds "Müller" and
"cafe" finds "Café" whether the card came with the page or with a live push."""
from __future__ import annotations

import unicodedata


def fold(text: str | None) -> str:
    """Without case or accents: decomposed (NFD), combining marks dropped, casefolded."""
    decomposed = unicodedata.normalize("NFD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def card_text(order_id: str, customer_name: str | None) -> str:
    """What a search looks in: the order id and the customer's name, folded."""
    return fold(f"{order_id} {customer_name or ''}")
