"""create_app(): lifespan (engine, migrations), routers, problem handlers, middleware, metrics."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.routing import APIRoute

from app import __version__
from app.access import AuthorizedRoute
from app.activities.router import router as activities_router
from app.activities.service import CaseSnapshots
from app.api_keys.router import router as api_keys_router
from app.audit.router import router as audit_router
from app.calendar.router import feed_router as calendar_feed_router
from app.calendar.router import router as calendar_feeds_router
from app.cases.router import router as cases_router
from app.config import Settings, get_settings
from app.db import create_engine, create_sessionmaker
from app.deadlines.router import router as deadlines_router
from app.employees.router import router as employees_router
from app.health.router import router as health_router
from app.idempotency import IdempotentReplay, handle_replay
from app.logging import configure_logging
from app.metrics import metrics_endpoint
from app.middleware import (
    BodySizeLimitMiddleware,
    NulCharacterGuardMiddleware,
    RequestContextMiddleware,
    ShutdownCancellationMiddleware,
    route_templates,
)
from app.problems import install_database_handlers, install_problem_handlers
from app.rate_limit import KeyRateLimiter
from app.reports.router import router as reports_router
from app.runtime import migrate_to_head_async, resolve_database_url
from app.security import KeyCache, bearer
from app.sickness_periods.router import router as sickness_periods_router
from app.timeline.router import router as timeline_router
from app.tracks.router import router as tracks_router
from app.webhooks.router import router as webhooks_router
from app.webhooks.worker import EventWorker

API_PREFIX = "/api/v1"
# Objects allocated between two young collections (CPython's default is 700); see the lifespan.
GC_YOUNG_THRESHOLD = 50_000

DESCRIPTION = """\
Manage sick employees' return to work under the Dutch **Wet verbetering poortwachter**: cases, the
statutory timeline, Track 1 and Track 2 (in parallel), their phases, activities and reports.

* Authenticate with `Authorization: Bearer <api key>`; a key belongs to one tenant and has one role.
* Errors are RFC 9457 `application/problem+json` with a stable `code` (and `rule` for rule refusals).
* Single resources carry `version` and an `ETag`; `PATCH` requires `If-Match`.
* Lists use cursor pagination: `?limit=` and `?cursor=`, `next_cursor` in the body and a `Link` header.
"""


def operation_id(route: APIRoute) -> str:
    """operationIds are the route names (open_case, …): short for generated clients, and the keys of
    the permission table."""
    return route.name


# Every /api/v1 operation requires the API key, as the OpenAPI document says (`declare_bearer_scheme`).
BEARER_SCHEME = "HTTPBearer"
KEY_REQUIRED: dict[str, Any] = {"security": [{BEARER_SCHEME: []}]}


def declare_bearer_scheme(app: FastAPI) -> None:
    """The bearer scheme in the document's components; the operations name it (`KEY_REQUIRED`). Declared
    rather than a dependency of each route: `AuthorizedRoute` checks the key before the route runs, and a
    dependency would cost every request a resolution that does nothing (FastAPI's own documented way of
    extending the document)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        spec = generate()
        schemes = spec.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes[BEARER_SCHEME] = jsonable_encoder(bearer.model, by_alias=True, exclude_none=True)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def add_routes_flat(
    app: FastAPI, router: APIRouter, prefix: str, openapi_extra: dict[str, Any], route_class: type[APIRoute]
) -> None:
    """The router's routes added to the app's own route table, as `include_router` does but without its
    inclusion layer: FastAPI 0.165 matches an included router's routes through that layer on every
    request, about 2 µs for each route it passes (GET /health/live, behind all API routes, spent 100 of
    its 150 µs there). The app's own routes are matched directly. The OpenAPI document is the same."""
    for route in router.routes:
        assert isinstance(route, APIRoute), route
        app.router.add_api_route(
            prefix + route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=route.tags,
            dependencies=route.dependencies,
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=route.responses,
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            callbacks=route.callbacks,
            openapi_extra={**openapi_extra, **(route.openapi_extra or {})},
            generate_unique_id_function=route.generate_unique_id_function,
            strict_content_type=route.strict_content_type,
            max_body_size=route.max_body_size,
            route_class_override=route_class,
        )


def create_app(settings: Settings | None = None, *, migrate_on_start: bool = True) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = resolve_database_url(settings)
        if migrate_on_start:
            await migrate_to_head_async(url)
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        # Outbox dispatch, webhook delivery and the deadline scheduler run beside the API in every replica.
        worker = EventWorker(app.state.sessionmaker, settings) if settings.event_worker_enabled else None
        if worker is not None:
            worker.start()
        # Everything built at start-up lives as long as the process: keep it out of the collector's
        # full passes, which otherwise show up as latency spikes (seen in the report benchmark's p95).
        gc.freeze()
        # A young collection every 700 new objects walks a batch's thousands of live items again and again:
        # 15-20 ms of a 5,000-item batch's 130 ms of CPU. Acyclic garbage is freed at once either way.
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            await engine.dispose()

    app = FastAPI(
        generate_unique_id_function=operation_id,
        title="Poortwachter reintegration API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        # Off: our metrics and access log cover requests, and spans would carry raw paths (employee
        # references) to wherever a global OpenTelemetry provider sends them. Checking for one cost
        # every request about 1.5% of a case read.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.rate_limiter = KeyRateLimiter(settings.rate_limit, settings.rate_limit_storage_uri)
    app.state.key_cache = KeyCache(settings.auth_cache_seconds)
    app.state.case_snapshots = CaseSnapshots()
    install_problem_handlers(app)
    install_database_handlers(app)
    app.add_exception_handler(IdempotentReplay, handle_replay)

    # Every API route: rate limit, resource visibility (404) and the permission table (403) first.
    for router in (
        cases_router,
        sickness_periods_router,
        timeline_router,
        deadlines_router,
        tracks_router,
        activities_router,
        reports_router,
        api_keys_router,
        audit_router,
        employees_router,
        webhooks_router,
        calendar_feeds_router,
    ):
        add_routes_flat(app, router, API_PREFIX, KEY_REQUIRED, AuthorizedRoute)
    app.include_router(health_router)
    # The feed authenticates by the secret token in its URL, not by API key: outside `AuthorizedRoute`.
    app.include_router(calendar_feed_router)

    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(NulCharacterGuardMiddleware)
    app.add_middleware(ShutdownCancellationMiddleware)  # inside the access log, which then logs its 503
    app.add_middleware(RequestContextMiddleware)
    declare_bearer_scheme(app)
    app.state.route_templates = route_templates(app.openapi())
    return app


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory app.main:create_app_from_env` (the Docker image)."""
    return create_app(get_settings())
