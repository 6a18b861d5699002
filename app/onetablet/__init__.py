"""Passline's side of OneTablet's API: the HTTP client, the outbox worker that sends
every queued call (and customer notification), and a simulator that plays OneTablet."""
