from __future__ import annotations

import httpx

from tests.conftest import TenantKeys

CASE = {"employee": {"external_ref": "E-1", "display_name": "J. de Vries"}, "first_sick_day": "2026-01-05"}


async def test_open_and_read_a_case(client: httpx.AsyncClient, tenant_a: TenantKeys) -> None:
    created = await client.post("/api/v1/cases", json=CASE, headers=tenant_a.headers())
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"].endswith(f"/api/v1/cases/{body['id']}")
    assert created.headers["etag"] == '"1"'
    read = await client.get(f"/api/v1/cases/{body['id']}", headers=tenant_a.headers())
    assert read.status_code == 200
    assert read.json()["employee"] == {"external_ref": "E-1", "display_name": "J. de Vries"}
    assert read.json()["status"] == "open"
