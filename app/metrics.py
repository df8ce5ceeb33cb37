"""Prometheus metrics with prometheus-client, recorded by the request middleware from what it already
knows (the matched route's template, the status, the duration): no second route match per request.

Label values are bounded: the route template (never the raw path), the method and the status class."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

# Probes and scrapes would drown the API's own figures.
UNMEASURED_ROUTES = frozenset({"/metrics", "/health/live", "/health/ready"})

REQUESTS = Counter(
    "http_requests", "Requests by route template, method and status class.", ["handler", "method", "status"]
)
DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer, by route template and method.",
    ["handler", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def observe(handler: str, method: str, status: int, seconds: float) -> None:
    if handler in UNMEASURED_ROUTES:
        return
    REQUESTS.labels(handler, method, f"{status // 100}xx").inc()
    DURATION.labels(handler, method).observe(seconds)


async def metrics_endpoint(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
