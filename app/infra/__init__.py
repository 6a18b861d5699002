"""Plumbing every layer above may use: settings, the database and its bulk writes, the
clock, request bodies and their checks, ids in paths, signing, security headers, error
answers, outage logging, and the live push to boards after a commit."""
