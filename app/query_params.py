"""Query strings are checked like bodies: a parameter the operation does not take is refused (a typo such
as `?stauts=overdue` would otherwise silently list everything), and so is a second value for a parameter
that takes one (which would otherwise silently win). 422 with a pointer per parameter."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.problems import ApiProblem

_SEQUENCES = (list, tuple, set, frozenset, typing.Sequence)


@dataclass(frozen=True, slots=True)
class _Accepted:
    names: frozenset[str]
    repeatable: frozenset[str]


_accepted_by_route: dict[int, _Accepted] = {}


def _takes_many(annotation: object) -> bool:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_takes_many(arg) for arg in typing.get_args(annotation))
    origin = typing.get_origin(annotation) or annotation
    if origin in (str, bytes):  # sequences too, but one value each
        return False
    return isinstance(origin, type) and issubclass(origin, _SEQUENCES)


def _collect(dependant: Dependant, names: set[str], repeatable: set[str]) -> None:
    for param in dependant.query_params:
        names.add(param.alias)
        if _takes_many(param.field_info.annotation):
            repeatable.add(param.alias)
    for sub in dependant.dependencies:
        _collect(sub, names, repeatable)


def _accepted(route: APIRoute) -> _Accepted:
    accepted = _accepted_by_route.get(id(route))
    if accepted is None:
        names: set[str] = set()
        repeatable: set[str] = set()
        _collect(route.dependant, names, repeatable)
        accepted = _Accepted(frozenset(names), frozenset(repeatable))
        _accepted_by_route[id(route)] = accepted
    return accepted


def check_query_parameters(request: Request) -> None:
    query = request.scope.get("query_string", b"")
    route = request.scope.get("route")
    if not query or not isinstance(route, APIRoute):
        return
    accepted = _accepted(route)
    seen: set[str] = set()
    errors: dict[str, dict[str, str]] = {}
    for name, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if name not in accepted.names:
            errors[name] = {"pointer": f"#/query/{name}", "reason": "Not a parameter of this operation",
                            "type": "unknown_parameter"}  # fmt: skip
        elif name in seen and name not in accepted.repeatable:
            errors[name] = {
                "pointer": f"#/query/{name}",
                "reason": "Given more than once",
                "type": "repeated",
            }
        seen.add(name)
    if errors:
        listed = ", ".join(repr(name) for name in errors)
        raise ApiProblem(
            422,
            "validation-failed",
            "The request is not valid",
            f"Query parameters this operation does not take, or takes once: {listed}.",
            extra={"errors": list(errors.values())},
        )
