"""Texts too long for SWF, kept aside and passed by reference.

SWF carries at most 32,768 characters of a task's input, an activity's result
or a workflow's result. A blob store keeps a longer text and gives back a
short reference, the JSON `{"cpe_blob": "sha256:<hex>"}`, which travels in its
place. Blobs are named by the hash of their content, so writing one blob twice
(as every replay of a history does) changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

from cpe.runtime.backends.select import aws_session, s3_address

BLOB_KEY = "cpe_blob"


class BlobError(Exception):
    """A blob cannot be stored or read; the message names the reference."""


class BlobStore(Protocol):
    def put(self, text: str) -> str:
        """Keep `text`; return the reference text that stands for it."""
        ...

    def get(self, reference: str) -> str:
        """The text a reference (as `put` returned it) stands for; BlobError."""
        ...


def digest_of(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def reference_text(digest: str) -> str:
    return json.dumps({BLOB_KEY: digest}, separators=(",", ":"))


def reference_in(data: Any) -> str | None:
    """The digest when `data` (parsed JSON) is a blob reference, else None."""
    if (
        isinstance(data, dict)
        and len(data) == 1
        and isinstance(data.get(BLOB_KEY), str)
        and data[BLOB_KEY].startswith("sha256:")
    ):
        digest: str = data[BLOB_KEY]
        return digest
    return None


def _digest_of_reference(reference: str) -> str:
    try:
        digest = reference_in(json.loads(reference))
    except json.JSONDecodeError:
        digest = None
    if digest is None or len(digest) != len("sha256:") + 64:
        raise BlobError(f"{reference[:100]!r} is not a blob reference")
    hex_part = digest.removeprefix("sha256:")
    if any(c not in "0123456789abcdef" for c in hex_part):
        raise BlobError(f"{reference[:100]!r} is not a blob reference")
    return digest


class LocalBlobStore:
    """Blobs as files `<hex>.txt` in one directory, written atomically."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def _path(self, digest: str) -> Path:
        return self.directory / (digest.removeprefix("sha256:") + ".txt")

    def put(self, text: str) -> str:
        digest = digest_of(text)
        path = self._path(digest)
        if not path.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            # Write aside, then rename: a reader never sees half a blob, and
            # two writers of one blob write the same bytes.
            handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".part")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as file:
                    file.write(text)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return reference_text(digest)

    def get(self, reference: str) -> str:
        digest = _digest_of_reference(reference)
        try:
            text = self._path(digest).read_text(encoding="utf-8")
        except OSError as error:
            raise BlobError(
                f"blob {digest} cannot be read from {self.directory}: {error.strerror}"
            ) from None
        if digest_of(text) != digest:
            raise BlobError(f"blob {digest} in {self.directory} is damaged")
        return text


class S3BlobStore:
    """Blobs as objects `<prefix><hex>` in an S3 bucket (a boto3 S3 client)."""

    def __init__(self, client: Any, bucket: str, prefix: str = "cpe-blobs/") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _key(self, digest: str) -> str:
        return self.prefix + digest.removeprefix("sha256:")

    def put(self, text: str) -> str:
        digest = digest_of(text)
        # A PUT of one key with the same bytes is harmless, so no check first.
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._key(digest),
            Body=text.encode("utf-8"),
            ContentType="text/plain; charset=utf-8",
        )
        return reference_text(digest)

    def get(self, reference: str) -> str:
        digest = _digest_of_reference(reference)
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(digest))
            text: str = body["Body"].read().decode("utf-8")
        except Exception as error:  # botocore's errors have no common base here
            raise BlobError(
                f"blob {digest} cannot be read from s3://{self.bucket}/{self.prefix}: "
                f"{error}"
            ) from None
        if digest_of(text) != digest:
            raise BlobError(f"blob {digest} in s3://{self.bucket} is damaged")
        return text


def open_blob_store(location: str) -> BlobStore:
    """The blob store at a folder path or an `s3://bucket/prefix` address."""
    try:
        address = s3_address(location)
    except ValueError as error:
        raise BlobError(str(error)) from None
    if address is None:
        return LocalBlobStore(location)
    bucket, prefix = address
    client = aws_session().client("s3")
    return S3BlobStore(client, bucket, prefix.rstrip("/") + "/" if prefix else "")
