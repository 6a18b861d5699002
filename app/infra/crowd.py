"""Work that every open board asks for at once waits its turn here, a few at a time.

One serving process answers OneTablet's webhooks and holds every board, on one CPU core, in
greenlets that each run until they wait on the network (app/infra/cooperative.py): there
are no priorities. A thousand boards reconnecting at once (a deploy, a network blip) bring
a thousand handshakes and a thousand board reloads, each a few milliseconds of CPU; all of
them ready to run ahead of a webhook that arrives among them, which would then wait
seconds for its turn (issue 18's reconnect storm: webhook p99 15 s).

A greenlet waiting on this gate waits on a lock: it uses no CPU and is not in the run
queue. So a webhook (never gated) waits for at most AT_ONCE pieces of crowd work, and the
crowd is served in turn with whatever CPU the webhooks leave. Gated: the session check of
a Socket.IO handshake (app/board/handshake.py), a board socket's connect handler, and the
board's renders (app/board/routes.py). In the threaded test server it only serialises
those few things.
"""
from __future__ import annotations

import threading

# Pieces of crowd work running at once. One keeps a webhook's wait shortest; two lets a
# render that waits on PostgreSQL not stall the whole crowd.
AT_ONCE = 2

gate = threading.BoundedSemaphore(AT_ONCE)
