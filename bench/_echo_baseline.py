"""The baseline of ``bench/echo.py``: a bare Flask app doing the crypto of a signed Echo and nothing else.

Per request: one RSA PKCS#1 v1.5 SHA-256 verify (a fixed signature over a fixed signing string) and one RSA
sign (of a line carrying the request's X-Request-Id), then a small body. No header parsing, registry, XML,
replay cache or audit log. Served by ``ewp_node.server.serve`` with the same options as the node:

    python bench/_echo_baseline.py KEY_PEM HOST:PORT WORKERS
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from flask import Flask, Response, request

from ewp_node.security.keys import load_private_key_file
from ewp_node.server import serve

#: About the size of a real request signing string (five signed headers).
FIXED_TEXT = (
    b"(request-target): get /ewp/echo?echo=bench\nhost: 127.0.0.1:8080\ndate: Tue, 07 Jan 2025 12:00:00 GMT\n"
    b"digest: SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    b"x-request-id: 00000000-0000-4000-8000-000000000000\naccept-signature: rsa-sha256"
)
BODY = b'<?xml version="1.0" encoding="UTF-8"?>\n<response><echo>bench</echo></response>\n'


def create_app(key_path: Path) -> Flask:
    key = load_private_key_file(key_path)
    public_key = key.public_key()
    fixed_signature = key.sign(FIXED_TEXT, padding.PKCS1v15(), hashes.SHA256())
    app = Flask("echo_baseline")

    @app.get("/ewp/echo")
    def echo() -> Response:
        public_key.verify(fixed_signature, FIXED_TEXT, padding.PKCS1v15(), hashes.SHA256())
        text = f"x-request-id: {request.headers.get('X-Request-Id', '')}".encode()
        signature = base64.b64encode(key.sign(text, padding.PKCS1v15(), hashes.SHA256())).decode("ascii")
        return Response(BODY, content_type="application/xml; charset=utf-8", headers={"Signature": signature})

    return app


def main(argv: list[str]) -> int:
    key_path, bind, workers = Path(argv[0]), argv[1], int(argv[2])
    serve(lambda: create_app(key_path), bind, workers=workers)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
