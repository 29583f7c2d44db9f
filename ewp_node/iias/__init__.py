"""Interinstitutional agreements (IIAs v7): model, hash, comparison, approvals."""
