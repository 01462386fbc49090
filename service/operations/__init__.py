"""Use cases, written once for every entry point (HTTP routes, the CLI, jobs).

Each module owns one area (lookup, batch, addresses, imports, reports, travel, maps, editor ...).
An operation takes the repository, the worker's snapshot and the settings, and returns domain
objects, JSON-ready dicts or bytes; it knows nothing of HTTP (an import-linter contract forbids
fastapi and starlette here), so the routes only parse, call one operation and shape the answer.
"""
