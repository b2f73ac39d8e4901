"""The runtime any generated Python layer runs on: routing, authentication order, validation, problem+json."""

__version__ = "0.2.0"

from twinapi_runtime.app import ContractDocument, ContractError, include_contract, load_contract
from twinapi_runtime.binding import (
    Binding,
    Call,
    Context,
    MissingOperations,
    OperationRoute,
    RawBody,
    as_model,
    require_implemented,
    respond,
)
from twinapi_runtime.problems import AuthenticationFailed, NotImplementedOperation, ProblemError
from twinapi_runtime.refusals import FieldError, Refusal

__all__ = [
    "AuthenticationFailed",
    "Binding",
    "RawBody",
    "as_model",
    "Call",
    "Context",
    "ContractDocument",
    "ContractError",
    "FieldError",
    "MissingOperations",
    "NotImplementedOperation",
    "OperationRoute",
    "ProblemError",
    "Refusal",
    "include_contract",
    "load_contract",
    "require_implemented",
    "respond",
]
