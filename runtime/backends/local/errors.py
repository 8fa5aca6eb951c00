"""ClientErrors raised with the codes and classes boto3 would raise."""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.errorfactory import ClientExceptionsFactory
from botocore.exceptions import ClientError

from cpe.runtime.backends.local.validation import service_model

# SQS answers in JSON but keeps its old Query error codes; boto3 puts the old
# code in Error.Code and picks the exception class from the shape name.
SQS_QUERY_CODES: dict[str, str] = {
    "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
    "QueueNameExists": "QueueAlreadyExists",
    "MessageNotInflight": "AWS.SimpleQueueService.MessageNotInflight",
    "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
    "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
    "BatchRequestTooLong": "AWS.SimpleQueueService.BatchRequestTooLong",
    "UnsupportedOperation": "AWS.SimpleQueueService.UnsupportedOperation",
    "QueueDeletedRecently": "AWS.SimpleQueueService.QueueDeletedRecently",
    "PurgeQueueInProgress": "AWS.SimpleQueueService.PurgeQueueInProgress",
    "InvalidIdFormat": "InvalidIdFormat",
}


@cache
def exceptions(service: str) -> Any:
    """The `client.exceptions` object boto3 builds for this service."""
    return ClientExceptionsFactory().create_client_exceptions(service_model(service))


def swf_error(code: str, message: str, operation: str) -> ClientError:
    """An SWF fault; unmodeled codes (ValidationException) give a plain ClientError."""
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": message},
        "message": message,
    }
    cls = exceptions("swf").from_code(code)
    return cls(response, operation)


def sqs_error(shape: str, message: str, operation: str) -> ClientError:
    """An SQS error by shape name (or a bare code such as InvalidParameterValue)."""
    code = SQS_QUERY_CODES.get(shape, shape)
    response: dict[str, Any] = {
        "Error": {
            "Code": code,
            "Message": message,
            "QueryErrorCode": shape,
            "Type": "Sender",
        },
        "message": message,
    }
    cls = exceptions("sqs").from_code(shape)
    return cls(response, operation)
