#!/usr/bin/env python3
"""aiosignalr (PyPI) as shipped, serving one hub for crates/signalr's interop tests.

    peers/.venv/bin/python peers/signalr_aiosignalr.py ['{"port":0}']   prints {"port":N}

Hub at /hub: Echo(x) -> x; Add(a, b) -> a + b; Void() -> nothing; Fail(m) raises a HubException
with m; Counter(n, ms) streams 0..n-1, one every ms; Tick(topic, n) invokes "tick"(topic, i) on
the caller for i < n, then returns n. (aiosignalr matches method names case-insensitively, and
sends a method's result only when the method has a return annotation.)
"""

import asyncio
import json
import sys
from typing import Any

from aiosignalr.errors import HubException
from aiosignalr.server import Hub, ServerOptions, SignalRServer


class TestHub(Hub):
    async def echo(self, value) -> Any:
        return value

    async def add(self, a, b) -> Any:
        return a + b

    async def void(self):
        return None

    async def fail(self, message) -> Any:
        raise HubException(message)

    async def counter(self, n, ms):
        for i in range(n):
            yield i
            await asyncio.sleep(ms / 1000)

    async def tick(self, topic, n) -> int:
        for i in range(n):
            await self.clients.caller.send("tick", topic, i)
        return n


async def main() -> None:
    opts = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    server = SignalRServer(TestHub, options=ServerOptions(enable_detailed_errors=True))
    _, port = await server.serve("127.0.0.1", int(opts.get("port", 0)), path="/hub")
    print(json.dumps({"port": port}), flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
