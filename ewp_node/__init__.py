"""ewp-node: an Erasmus Without Paper network node.

Core package: configuration, the Flask app factory, the security layer (HTTP signatures), the Registry
client, XML helpers, storage, the signed client, CNR and the CLI. One module per EWP API lives in the
top-level ``handlers`` package.
"""

__version__ = "0.1.0"
