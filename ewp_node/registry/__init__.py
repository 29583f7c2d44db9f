"""The Registry: catalogue fetch (ETag, last good copy on disk), its index, and the sandbox's local registry.

Rule: only :mod:`ewp_node.registry.local` knows Flask (it serves a catalogue); the index works on lxml
elements and bytes, the client on ``requests``. Nothing here verifies signatures: it hands keys to security.
"""
