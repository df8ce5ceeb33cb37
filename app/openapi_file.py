"""The committed OpenAPI file: written by `poortwachter openapi`, checked by the tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.config import PROJECT_ROOT

OPENAPI_PATH = PROJECT_ROOT / "openapi" / "openapi.json"
FIX_COMMAND = "poortwachter openapi"


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated_spec() -> dict[str, Any]:
    from app.config import Settings
    from app.main import create_app

    # The spec does not depend on the database; a URL that is never connected to keeps the embedded
    # server unstarted.
    return create_app(Settings(database_url="postgresql://unused@localhost/unused")).openapi()


def drift(committed_text: str, spec: dict[str, Any]) -> str | None:
    """None when the committed file is exactly what the app generates; otherwise what differs."""
    if committed_text == render(spec):
        return None
    try:
        committed = json.loads(committed_text)
    except ValueError:
        return "the committed file is not JSON"
    old_paths, new_paths = set(committed.get("paths", {})), set(spec.get("paths", {}))
    parts = []
    if new_paths - old_paths:
        parts.append("new paths: " + ", ".join(sorted(new_paths - old_paths)))
    if old_paths - new_paths:
        parts.append("removed paths: " + ", ".join(sorted(old_paths - new_paths)))
    changed = sorted(p for p in old_paths & new_paths if committed["paths"][p] != spec["paths"][p])
    if changed:
        parts.append("changed paths: " + ", ".join(changed))
    if committed.get("components") != spec.get("components"):
        parts.append("changed components (schemas)")
    return "; ".join(parts) or "formatting differs"


def write(path: Path = OPENAPI_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(generated_spec()))
    return path
