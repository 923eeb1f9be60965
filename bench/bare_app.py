"""Baseline for bench/ingest.py: a FastAPI endpoint that only reads the body."""

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/flexbe/{site_token}")
async def receive(site_token: str, request: Request) -> dict[str, str]:
    await request.body()
    return {"status": "accepted", "site": site_token[:0]}
