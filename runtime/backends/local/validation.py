"""Requests checked exactly as botocore checks them before sending."""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session
import botocore.validate


@cache
def service_model(service: str) -> Any:
    """botocore's model of SWF or SQS, loaded once per process."""
    return botocore.session.get_session().get_service_model(service)


@cache
def _operation_model(service: str, operation: str) -> Any:
    return service_model(service).operation_model(operation)


def validate(service: str, operation: str, params: dict[str, Any]) -> None:
    """Raise botocore's ParamValidationError for a request boto3 would refuse."""
    shape = _operation_model(service, operation).input_shape
    if shape is None:
        if params:
            raise TypeError(f"{operation} takes no parameters")
        return
    botocore.validate.validate_parameters(params, shape)


def output_shape(service: str, operation: str) -> Any:
    """The output shape of an operation (None when it returns nothing)."""
    return _operation_model(service, operation).output_shape
