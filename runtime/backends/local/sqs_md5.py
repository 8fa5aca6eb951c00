"""The MD5 digests SQS returns, so clients that verify them accept ours."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from typing import Any


def md5_of_body(body: str) -> str:
    return hashlib.md5(body.encode("utf-8")).hexdigest()


def _blob(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def md5_of_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> str:
    """SQS's digest: per attribute, sorted by name, length-prefixed name, data
    type, a transport byte (1 string, 2 binary) and length-prefixed value."""
    digest = hashlib.md5()

    def put(data: bytes) -> None:
        digest.update(struct.pack(">I", len(data)) + data)

    for name in sorted(attributes):
        attr = attributes[name]
        put(name.encode("utf-8"))
        put(str(attr["DataType"]).encode("utf-8"))
        if "BinaryValue" in attr and attr["BinaryValue"] is not None:
            digest.update(b"\x02")
            put(_blob(attr["BinaryValue"]))
        else:
            digest.update(b"\x01")
            put(str(attr.get("StringValue", "")).encode("utf-8"))
    return digest.hexdigest()
