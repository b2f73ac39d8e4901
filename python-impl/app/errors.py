"""The example's answers to the requests the kit refuses before a handler runs: RFC 9457 problem+json, validation
failures with their `errors` (CONVENTIONS.md, Errors). The spec documents them so; the kit picks which one answers."""

from twinapi_runtime import Refusal, refusals

from app.generated import models
from app.generated.operations import ErrorBodies


class Problems(ErrorBodies):
    def validation_problem(self, refusal: Refusal) -> models.ValidationProblem:
        body = {**refusals.problem_json(refusal), "errors": refusals.field_errors(refusal)}
        return models.ValidationProblem.model_validate(body)

    def problem(self, refusal: Refusal) -> models.Problem:
        return models.Problem.model_validate(refusals.problem_json(refusal))
