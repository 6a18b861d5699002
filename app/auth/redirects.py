"""Where to go after login: only a path on this site (contract §3.6). Browsers forgive a lot
in a Location header ("/\\t/evil.example" and "/\\evil.example" both leave the site, a CR/LF
splits the header), so anything but a plain on-site path is refused, not repaired."""
from __future__ import annotations

from urllib.parse import urlsplit


def on_site(target: str | None) -> str | None:
    """`target` when it is a path on this site ("/orders/x?y=1"), else None."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(char.isspace() or not char.isprintable() for char in target):
        return None  # whitespace, control characters, backslashes: never in our own links
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
