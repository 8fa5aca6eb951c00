"""Choosing a backend: the embedded one on a SQLite file, or AWS through boto3.

Every command and daemon that talks to SWF and SQS opens its clients here, so
`--backend local --db FILE` and `--backend aws` give objects used alike.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

BACKENDS = ("local", "aws")
DEFAULT_DB = "cpe.db"


class BackendError(Exception):
    """The backend cannot be opened as asked (a usage problem, not a bug)."""


@dataclass(frozen=True)
class BackendChoice:
    kind: str = "local"
    db: str = DEFAULT_DB
    poll_timeout: float = 60.0

    def describe(self) -> str:
        return f"the embedded backend at {self.db}" if self.kind == "local" else "AWS"


def open_clients(choice: BackendChoice) -> tuple[Any, Any]:
    """(swf, sqs) clients for `choice`.

    On aws, boto3 reads the standard environment (AWS_REGION or
    AWS_DEFAULT_REGION, credentials, AWS_ENDPOINT_URL and the per-service
    AWS_ENDPOINT_URL_SWF / AWS_ENDPOINT_URL_SQS); a long poll waits up to
    70 s, past SWF's 60 s, so a poll that finds nothing is not a read timeout.
    """
    if choice.kind == "local":
        from cpe.runtime.backends.local import connect

        return connect(choice.db, poll_timeout=choice.poll_timeout)
    if choice.kind == "aws":
        return _aws_clients()
    raise BackendError(
        f"unknown backend {choice.kind!r}; use one of {', '.join(BACKENDS)}"
    )


def aws_session() -> Any:
    """A boto3 session from the standard AWS environment.

    botocore reads AWS_DEFAULT_REGION; AWS_REGION is what other AWS SDKs and
    AWS's own runtimes set, so it is honoured too.
    """
    import boto3

    return boto3.session.Session(region_name=os.environ.get("AWS_REGION"))


def s3_address(location: str) -> tuple[str, str] | None:
    """(bucket, prefix) of an `s3://bucket/prefix` address; None for a path.

    Raises ValueError for an address that names no bucket."""
    if not location.startswith("s3://"):
        return None
    bucket, _, prefix = location[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"{location} names no bucket: write s3://BUCKET/PREFIX")
    return bucket, prefix


def _aws_clients() -> tuple[Any, Any]:
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    config = Config(read_timeout=70, connect_timeout=10, retries={"mode": "standard"})
    try:
        session = aws_session()
        if session.region_name is None:
            raise BackendError(
                "no AWS region is set; set AWS_REGION (or AWS_DEFAULT_REGION), "
                "or use --backend local"
            )
        return session.client("swf", config=config), session.client(
            "sqs", config=config
        )
    except BotoCoreError as error:
        raise BackendError(f"cannot open the AWS clients: {error}") from None
