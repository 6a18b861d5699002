"""The rules of an order, in plain Python (no Flask, no database): states, transitions,
time limits, audit entries (lifecycle.py), and the words staff read for codes (labels.py)."""
