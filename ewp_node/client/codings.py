"""Content codings of partner answers, undone after the signature was checked over the raw bytes."""

from __future__ import annotations

import zlib
from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from ewp_node.client.errors import PartnerUnavailable
from ewp_node.security.rsa_aes import CODING, decrypt

#: Largest partner response we read; a hostile partner cannot make us buffer more.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024


def gunzip(data: bytes) -> bytes:
    """Decompress a gzip body, refusing to inflate past :data:`MAX_RESPONSE_BYTES` (no gzip bombs)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    content = inflater.decompress(data, MAX_RESPONSE_BYTES + 1)
    if len(content) > MAX_RESPONSE_BYTES or inflater.unconsumed_tail:
        raise PartnerUnavailable(f"a gzip answer inflates past {MAX_RESPONSE_BYTES} bytes")
    return content


def decode_content(raw: bytes, content_encoding: str | None, private_keys: Mapping[str, RSAPrivateKey]) -> bytes:
    """Undo the answer's content codings, last applied first (gzip, ewp-rsa-aes128gcm).

    :param private_keys: our client keys by key id (for ``ewp-rsa-aes128gcm`` answers).
    """
    content = raw
    for coding in reversed([c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]):
        if coding == CODING:
            content = decrypt(content, private_keys)
        elif coding == "gzip":
            content = gunzip(content)
        elif coding != "identity":
            raise PartnerUnavailable(f"the partner answered with an unsupported content coding {coding!r}")
    return content
