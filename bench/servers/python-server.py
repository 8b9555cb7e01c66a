"""The benchmark contract on python-socketio with aiohttp (peers/.venv):

    peers/.venv/bin/python bench/servers/python-server.py --port N

Every socket joins room `room`; `echo` acks with its arguments (python-socketio sends a
handler's return value as the ack; it does not tell whether one was asked, so the emit-back
half of the contract is not served); `fan` broadcasts `f` with its arguments to `room`, skipping
the sender.
"""

import argparse

import socketio
from aiohttp import web

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=3000)
args = parser.parse_args()

sio = socketio.AsyncServer(async_mode="aiohttp", max_http_buffer_size=100_000_000)
app = web.Application()
sio.attach(app)


@sio.event
async def connect(sid, environ, auth=None):
    await sio.enter_room(sid, "room")


@sio.on("echo")
async def echo(sid, *data):
    return data


@sio.on("fan")
async def fan(sid, *data):
    await sio.emit("f", data, room="room", skip_sid=sid)


async def started(_app):
    print(f"listening {args.port}", flush=True)


app.on_startup.append(started)
web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)
