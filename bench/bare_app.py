"""The status-read baseline: a bare FastAPI endpoint returning a constant, served by uvicorn with
the same settings as the api (`uvicorn bench.bare_app:app`)."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def constant() -> dict[str, str]:
    return {"status": "ok"}
