"""Baselines: for bench/ingest.py a FastAPI endpoint that only reads the body; for
bench/console.py one that answers a GET with a small HTML page, touching no database."""

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

app = FastAPI()


@app.post("/flexbe/{site_token}")
async def receive(site_token: str, request: Request) -> dict[str, str]:
    await request.body()
    return {"status": "accepted", "site": site_token[:0]}


@app.get("/page")
async def page() -> HTMLResponse:
    return HTMLResponse("<!doctype html><title>bare</title><p>bare</p>")
