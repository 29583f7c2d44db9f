"""Mobilities in both directions: nominations (OMobilities v3, IMobilities v2) and learning agreements
(OMobility LAs v1): records, tables, XML builders and parsers, services, import and the operator commands."""
