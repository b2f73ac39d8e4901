"""How RealWorld Conduit API answers the requests the kit refuses before any handler runs, in the shapes its spec
documents.

`make generate` wrote this file once because it was missing; it is yours now and is never overwritten. Each method
builds one documented error shape from the kit's refusal: the status answered, its title, the kit's detail and the
(location, message) errors of a failed validation. Which documented response answers which refusal is the kit's rule
(validation: 400, else 422, else 4XX, else default; the others their own status, else 4XX, else default).
"""

from __future__ import annotations

from twinapi_runtime import Refusal, refusals

from app.generated import models
from app.generated import operations as ops


class Errors(ops.ErrorBodies):
    def generic_error_model(self, refusal: Refusal) -> models.GenericErrorModel:
        """The kit's 422."""
        return models.GenericErrorModel.model_validate(
            {
                "errors": {"body": refusals.messages(refusal)},
            }
        )
