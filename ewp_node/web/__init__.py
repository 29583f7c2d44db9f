"""People-facing pages: the status page and indicators for the international office.

Rule: read-only views over the store and the registry client; server-rendered HTML and SVG, no JavaScript.
"""
