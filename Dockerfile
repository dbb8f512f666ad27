# syntax=docker/dockerfile:1
# One image for every Hearth process: the api, the worker, the web and the migrations.
# docker-compose.yml picks each one's command; the default runs the api.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH=/app/.venv/bin:$PATH

# The same uv that `make` pins, so the image resolves uv.lock exactly as a developer does.
RUN pip install --no-cache-dir uv==0.13.9

WORKDIR /app

# Dependencies first: this layer is rebuilt when uv.lock changes, not on every code change.
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

COPY alembic.ini ./
COPY migrations ./migrations
COPY shared ./shared
COPY services ./services
COPY web ./web
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

# Never run as root. var/ is the only place the app may write (in compose every setting comes
# from the environment, so it stays empty there).
RUN useradd --system --user-group --uid 10001 --home-dir /app --no-create-home hearth \
    && mkdir -p /app/var \
    && chown hearth:hearth /app/var
USER hearth

EXPOSE 8000 8080
CMD ["uvicorn", "services.api.main:app", "--host", "0.0.0.0", "--port", "8000"]
