"""The international office's accounts and console sessions (no Flask here: the web layer calls these)."""
