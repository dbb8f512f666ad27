"""Structured logs: JSON lines in production, readable lines on a terminal; a request id on each."""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

import structlog

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def _add_request_id(_, __, event_dict: dict) -> dict:
    if rid := request_id.get():
        event_dict["request_id"] = rid
    return event_dict


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record with the keys structlog's JSONRenderer wrote (event, level,
    logger, timestamp, request_id) plus the traceback under `exception`. Hand-built: the api logs
    every request, and structlog's processor chain cost about 70 µs a line, a tenth of the budget
    of GET /v1/me."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"event": record.getMessage(), "level": record.levelname.lower(),
                "logger": record.name,
                "timestamp": datetime.fromtimestamp(record.created, UTC)
                .isoformat().replace("+00:00", "Z")}
        if rid := request_id.get():
            line["request_id"] = rid
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str)


def configure_logging(*, json_logs: bool, level: str = "INFO") -> None:
    shared_processors = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_request_id,
    ]
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLineFormatter() if json_logs else structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.dev.ConsoleRenderer(colors=False)],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's access log duplicates ours and is not JSON.
    logging.getLogger("uvicorn.access").handlers[:] = []
    logging.getLogger("uvicorn.access").propagate = False
