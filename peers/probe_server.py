#!/usr/bin/env python3
"""A python-socketio server (AsyncServer on aiohttp) for the `sio probe` tests
(crates/cli/tests/probe.rs):

    peers/.venv/bin/python peers/probe_server.py

Listens on 127.0.0.1 on a free port, prints `PORT <n>` on a line of its own, and serves until its
standard input closes (the test holds it open).
"""

import asyncio
import sys

import socketio
from aiohttp import web


async def main():
    sio = socketio.AsyncServer(async_mode="aiohttp")

    @sio.on("echo")
    async def echo(sid, *args):
        await sio.emit("echo", args, to=sid)

    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)

    loop = asyncio.get_running_loop()
    # Serve until the test closes our standard input.
    await loop.run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
