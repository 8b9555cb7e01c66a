#!/usr/bin/env python3
"""Drives a python-socketio AsyncClient against a server under test, for the interop tests of
crates/server. Same line protocol as peers/sio-client.js: JSON commands on stdin, one JSON event
per line on stdout, so a test can react to each step instead of sleeping.

    peers/.venv/bin/python peers/sio_client.py <url>

Commands (a socket "s" is a namespace name: python-socketio multiplexes them in one client):
  {"op":"connect","namespaces":[...],"auth":{...}?,"headers":{...}?,"transports":[...]?}
  {"op":"emit","s":NSP,"event":E,"args":[...]}
  {"op":"call","s":NSP,"req":R,"event":E,"args":[...]}   prints "ack" with the answer
  {"op":"ack","ack":K,"args":[...]}                       answers the server's request K
  {"op":"disconnect"}                                     leaves every namespace and closes
  {"op":"state"}                                          prints the client's sid and transport
  {"op":"exit"}
Binary values travel as {"$bin":[bytes...]} in both directions.

Events: {"ev":"ready"}, {"ev":"connect","s","id","transport"}, {"ev":"connect_error","s","data"},
{"ev":"disconnect","s","reason"}, {"ev":"event","s","name","args","ack":K|null},
{"ev":"ack","req","args"}, {"ev":"state","sid","transport","namespaces"}, {"ev":"fail","error"}.
The script exits when stdin closes, on "exit", or after SIO_CLIENT_TIMEOUT_MS (default 20000).
"""

import asyncio
import json
import os
import sys
import traceback

import socketio
from socketio import packet

URL = sys.argv[1] if len(sys.argv) > 1 else None
TIMEOUT_S = int(os.environ.get("SIO_CLIENT_TIMEOUT_MS", "20000")) / 1000


def emit_line(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def fail(error):
    emit_line({"ev": "fail", "error": error})
    sys.stdout.flush()
    os._exit(1)


def encode(value):
    if isinstance(value, (bytes, bytearray)):
        return {"$bin": list(value)}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


def decode(value):
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if list(value.keys()) == ["$bin"] and isinstance(value["$bin"], list):
            return bytes(value["$bin"])
        return {k: decode(v) for k, v in value.items()}
    return value


class Driver(socketio.AsyncClient):
    """Reports every event and lets the test answer acknowledgement requests."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.pending_acks = {}
        self.next_ack = 0

    async def _handle_event(self, namespace, id, data):
        namespace = namespace or "/"
        name, args = data[0], data[1:]
        if id is None:
            emit_line({"ev": "event", "s": namespace, "name": name, "args": encode(args), "ack": None})
            return
        key = self.next_ack
        self.next_ack += 1
        answer = asyncio.get_running_loop().create_future()
        self.pending_acks[key] = answer
        emit_line({"ev": "event", "s": namespace, "name": name, "args": encode(args), "ack": key})
        args = await answer
        await self._send_packet(self.packet_class(packet.ACK, namespace=namespace, id=id, data=list(args)))


async def main():
    if not URL:
        fail("usage: sio_client.py <url>")
    sio = Driver(reconnection=False)

    @sio.on("connect", namespace="*")
    async def on_connect(namespace):
        emit_line({"ev": "connect", "s": namespace, "id": sio.get_sid(namespace), "transport": sio.transport()})

    @sio.on("connect_error", namespace="*")
    async def on_connect_error(namespace, data=None):
        emit_line({"ev": "connect_error", "s": namespace, "data": encode(data)})

    @sio.on("disconnect", namespace="*")
    async def on_disconnect(namespace, reason=None):
        emit_line({"ev": "disconnect", "s": namespace, "reason": reason})

    async def run(command):
        op = command.get("op")
        if op == "connect":
            try:
                await sio.connect(
                    URL,
                    namespaces=command.get("namespaces", ["/"]),
                    auth=command.get("auth"),
                    headers=command.get("headers", {}),
                    transports=command.get("transports"),
                    wait_timeout=5,
                )
            except socketio.exceptions.ConnectionError as error:
                emit_line({"ev": "connect_failed", "error": str(error)})
        elif op == "emit":
            await sio.emit(command["event"], tuple(decode(command.get("args", []))), namespace=command.get("s", "/"))
        elif op == "call":
            req = command["req"]

            def answered(*args):
                emit_line({"ev": "ack", "req": req, "args": encode(list(args))})

            await sio.emit(
                command["event"],
                tuple(decode(command.get("args", []))),
                namespace=command.get("s", "/"),
                callback=answered,
            )
        elif op == "ack":
            answer = sio.pending_acks.pop(command["ack"])
            answer.set_result(tuple(decode(command.get("args", []))))
        elif op == "disconnect":
            await sio.disconnect()
        elif op == "state":
            emit_line({"ev": "state", "sid": sio.sid, "transport": sio.transport(), "namespaces": sorted(sio.namespaces)})
        elif op == "exit":
            await sio.disconnect()
            os._exit(0)
        else:
            fail(f"unknown op {op}")

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    emit_line({"ev": "ready"})
    while True:
        line = await reader.readline()
        if not line:
            break
        line = line.strip()
        if not line:
            continue
        try:
            # Commands run one after the other, as the test sent them; acks answered later
            # complete in the handler's own task.
            await run(json.loads(line))
        except Exception:  # noqa: BLE001 - any failure ends the run with its traceback
            fail(traceback.format_exc())
    os._exit(0)


def watchdog():
    fail(f"timeout after {TIMEOUT_S * 1000:.0f} ms")


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    loop.call_later(TIMEOUT_S, watchdog)
    try:
        loop.run_until_complete(main())
    except Exception:  # noqa: BLE001
        fail(traceback.format_exc())
