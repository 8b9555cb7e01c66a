#!/usr/bin/env python3
"""A python-socketio server for the interop tests of crates/client (the Rust client).

    peers/.venv/bin/python peers/sio_server.py '{"port":0,"transports":[...]}'

Same contract as peers/sio-server.js (namespaces "/" and "/admin", token "bad" refused with
"unauthorized", "welcome", "echo", "binary", "ask", "close-transport", "kick", "tick",
"transport"), with one difference forced by python-socketio: a handler cannot tell whether the
client asked for an acknowledgement, so "echo" both acknowledges and emits "echo" back.
Prints {"port": N} once listening.
"""
import asyncio
import json
import sys

import socketio
from aiohttp import web

opts = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
# python-engineio refuses polling payloads of more than 16 packets by default
# (max_decode_packets): the default is kept, the client must split its POSTs.
sio = socketio.AsyncServer(
    async_mode="aiohttp",
    transports=opts.get("transports", ["polling", "websocket"]),
    cors_allowed_origins="*",
)
app = web.Application()
sio.attach(app)


def register(nsp):
    @sio.on("connect", namespace=nsp)
    async def connect(sid, environ, auth):
        if isinstance(auth, dict) and auth.get("token") == "bad":
            raise socketio.exceptions.ConnectionRefusedError("unauthorized")
        conn = sio.manager.eio_sid_from_sid(sid, nsp)
        await sio.emit(
            "welcome",
            {"id": sid, "nsp": nsp, "auth": auth or {}, "conn": conn},
            to=sid,
            namespace=nsp,
        )

    @sio.on("echo", namespace=nsp)
    async def echo(sid, *args):
        await sio.emit("echo", args, to=sid, namespace=nsp)
        return args

    @sio.on("binary", namespace=nsp)
    async def binary(sid, *args):
        await sio.emit(
            "binary",
            {"nested": {"buf": b"\x01\x02\x03"}, "list": [b"\x04\x05"], "n": 1},
            to=sid,
            namespace=nsp,
        )
        return b"\x06\x07"

    @sio.on("ask", namespace=nsp)
    async def ask(sid, *args):
        async def answered(*answer):
            await sio.emit("answer", answer, to=sid, namespace=nsp)

        def callback(*answer):
            asyncio.ensure_future(answered(*answer))

        await sio.emit("question", args, to=sid, namespace=nsp, callback=callback)

    @sio.on("close-transport", namespace=nsp)
    async def close_transport(sid, *args):
        await sio.eio.disconnect(sio.manager.eio_sid_from_sid(sid, nsp))

    @sio.on("kick", namespace=nsp)
    async def kick(sid, *args):
        await sio.disconnect(sid, namespace=nsp)

    @sio.on("tick", namespace=nsp)
    async def tick(sid, n=None):
        await sio.emit("tick", n, namespace=nsp)

    @sio.on("transport", namespace=nsp)
    async def transport(sid, *args):
        return sio.transport(sid, namespace=nsp)


for namespace in ("/", "/admin"):
    register(namespace)


async def main():
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", opts.get("port", 0))
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(json.dumps({"port": port}), flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
