"""The committed openapi/openapi.json is exactly what the app generates."""

from __future__ import annotations

from app import openapi_file
from app.config import Settings
from app.main import create_app


def test_committed_openapi_file_is_current() -> None:
    problem = openapi_file.drift(openapi_file.OPENAPI_PATH.read_text(), openapi_file.generated_spec())
    assert problem is None, f"openapi/openapi.json is stale ({problem}); run `{openapi_file.FIX_COMMAND}`"


def test_the_check_notices_a_new_route() -> None:
    app = create_app(Settings(database_url="postgresql://unused@localhost/unused"))

    @app.get("/api/v1/something-new")
    async def something_new() -> dict[str, str]:
        return {}

    problem = openapi_file.drift(openapi_file.OPENAPI_PATH.read_text(), app.openapi())
    assert problem is not None and "/api/v1/something-new" in problem


def test_every_operation_documents_its_problems() -> None:
    spec = openapi_file.generated_spec()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/api/"):
                assert "401" in operation["responses"], (method, path)
                assert "422" in operation["responses"], (method, path)
            assert operation.get("summary"), (method, path)
