"""XML helpers: namespaces, safe parsing, schema validation.

Rule: this package works on lxml elements and bytes only; it knows nothing of HTTP or Flask.
"""
