"""Idiomatic FastAPI: a Pydantic model as response_model, an async path operation, nothing tuned.

It answers the same body as twinapi_bench.refs.BODY.
"""

from typing import Literal

from fastapi import FastAPI
from pydantic import BaseModel


class Health(BaseModel):
    status: Literal["ok"]
    implementation: Literal["python", "node"]
    version: str


app = FastAPI()


@app.get("/health", response_model=Health)
async def health() -> Health:
    return Health(status="ok", implementation="python", version="1.0.0")
