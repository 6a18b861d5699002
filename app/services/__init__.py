"""Services: each one transaction from an entry point through the lifecycle (orders.apply)
to the audit trail, the outbox and the live board; and the other units of work (accounts,
store updates from OneTablet, the overdue tick, retention, heartbeats)."""
