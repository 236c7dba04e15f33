"""The clients of ``loupe bench serve``: distinct query texts, closed-loop searching clients
and a ``/healthz`` prober, each counting only successful answers."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

TOKEN = "bench-serve-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass(slots=True)
class Texts:
    """Distinct query texts, handed out once each."""

    items: list[str]
    next: int = 0

    def take(self) -> str:
        self.next += 1
        return self.items[(self.next - 1) % len(self.items)] + (
            f" {self.next}" if self.next > len(self.items) else ""
        )


@dataclass(slots=True)
class Prober:
    """``/healthz`` every 100 ms in a thread; latencies by phase."""

    url: str
    phase: str = "idle"
    latencies: dict[str, list[float]] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60, headers=AUTH) as client:
            while not self.stop.wait(0.1):
                started = time.perf_counter()
                try:
                    ok = client.get("/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    elapsed = (time.perf_counter() - started) * 1000
                    self.latencies.setdefault(self.phase, []).append(elapsed)


async def search_until(
    url: str,
    texts: Texts,
    clients: int,
    done: Callable[[httpx.AsyncClient], Any],
    sink: list[float] | None = None,
) -> list[float]:
    """``clients`` closed-loop clients sending text queries until ``await done(client)``;
    the latencies of the answers go to ``sink`` (a new list by default), returned."""
    latencies: list[float] = [] if sink is None else sink
    finished = asyncio.Event()

    async def one(client: httpx.AsyncClient) -> None:
        while not finished.is_set():
            started = time.perf_counter()
            try:
                response = await client.post("/v1/search", json={"text": texts.take()})
            except httpx.HTTPError:
                continue
            if response.status_code == 200:
                latencies.append((time.perf_counter() - started) * 1000)

    async def watch(client: httpx.AsyncClient) -> None:
        while not await done(client):
            await asyncio.sleep(0.5)
        finished.set()

    limits = httpx.Limits(max_connections=clients + 1)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits, headers=AUTH) as client:
        await asyncio.gather(watch(client), *(one(client) for _ in range(clients)))
    return latencies


async def search_count(url: str, texts: Texts, clients: int, count: int) -> list[float]:
    """``clients`` closed-loop clients until ``count`` answers in all (idle: nothing else)."""
    latencies: list[float] = []

    async def enough(_client: httpx.AsyncClient) -> bool:
        return len(latencies) >= count

    return await search_until(url, texts, clients, enough, sink=latencies)
