"""Domain errors: a stable code and, for rule refusals, the rule id. They know nothing of HTTP;
`app/problems.py` maps each class to a status in one table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    """Base class. `code` is the stable problem code of api.md."""

    code: str = "conflict"
    title: str = "Conflict"

    def __init__(
        self,
        detail: str,
        *,
        rule: str | None = None,
        missing: Sequence[str] = (),
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.rule = rule
        self.missing = list(missing)
        self.extra = dict(extra or {})


class RuleViolation(DomainError):
    """A hard rule of domain.md refuses the change (409 `rule-violated`); nothing is written."""

    code = "rule-violated"
    title = "A rule of the poortwachter process refuses this change"


class NotFound(DomainError):
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    code = "conflict"
    title = "Conflict"


class InvalidInput(DomainError):
    """Input that is well-formed but meaningless for the domain (422 `validation-failed`)."""

    code = "validation-failed"
    title = "The request is not valid"
