"""Small HTTP helpers shared by the scenario tests."""

from __future__ import annotations

from typing import Any

import httpx

from app.models.tenants import Role
from tests.conftest import TenantKeys


def contact_item(case_id: str, n: int, **extra: Any) -> dict[str, Any]:
    """A batch item: an employee contact on the case, with its own external id."""
    return {
        "case_id": case_id,
        "kind": "employee_contact",
        "occurred_on": "2026-03-02",
        "external_id": f"script-{n}",
        "summary": f"Call {n}",
        **extra,
    }


class Api:
    def __init__(self, client: httpx.AsyncClient, tenant: TenantKeys) -> None:
        self.client = client
        self.tenant = tenant

    async def call(
        self,
        method: str,
        path: str,
        *,
        role: Role = Role.case_manager,
        expect: int | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = {**self.tenant.headers(role), **kwargs.pop("headers", {})}
        response = await self.client.request(method, "/api/v1" + path, headers=headers, **kwargs)
        if expect is not None:
            assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response

    async def open_case(self, first_sick_day: str = "2026-01-05", **fields: Any) -> dict[str, Any]:
        body = {"employee": {"external_ref": "E-S"}, "first_sick_day": first_sick_day, **fields}
        return (await self.call("POST", "/cases", json=body, expect=201)).json()

    async def activity(
        self,
        case_id: str,
        kind: str,
        on: str,
        *,
        track_id: str | None = None,
        role: Role = Role.case_manager,
        expect: int | None = 201,
        **details: Any,
    ) -> httpx.Response:
        body: dict[str, Any] = {"kind": kind, "occurred_on": on, "details": details}
        if track_id:
            body["track_id"] = track_id
        return await self.call("POST", f"/cases/{case_id}/activities", json=body, role=role, expect=expect)

    async def start_track(
        self, case_id: str, kind: str, on: str, expect: int | None = 201, **extra: Any
    ) -> httpx.Response:
        return await self.call(
            "POST", f"/cases/{case_id}/tracks", json={"kind": kind, "started_on": on, **extra}, expect=expect
        )

    async def move(self, track_id: str, to_phase: str, on: str, expect: int | None = 201) -> httpx.Response:
        return await self.call(
            "POST",
            f"/tracks/{track_id}/phase-transitions",
            json={"to_phase": to_phase, "on": on},
            expect=expect,
        )

    async def close(self, track_id: str, outcome: str, on: str, expect: int | None = 200) -> httpx.Response:
        return await self.call(
            "POST", f"/tracks/{track_id}/closure", json={"outcome": outcome, "ended_on": on}, expect=expect
        )


def refused(response: httpx.Response, rule: str, status: int = 409) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["rule"] == rule, body
    if status == 409:
        assert body["code"] == "rule-violated"
    return body
