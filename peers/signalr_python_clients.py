#!/usr/bin/env python3
"""The Python SignalR clients people use, against a hub, to catch mistakes of the hub fixture
(peers/signalr-hub.js) that the official JavaScript client lets pass.

    peers/.venv/bin/python peers/signalr_python_clients.py http://127.0.0.1:N/hub

Runs Add(2, 3) -> 5 and Tick("t", 2) -> "tick"("t", 0), ("t", 1) with signalrcore 1.0.2 on
WebSockets, SSE and Long Polling, and with pysignalr 1.3.3 on WebSockets (JSON). On Long
Polling signalrcore runs Add only: it reads just the first record of a poll body, and Tick's
answer comes as three records in one body. Prints one
JSON line per run, {"client","transport","ok","error"}; exits 1 if any failed.
"""

import asyncio
import json
import queue
import sys
import threading
import traceback


def signalrcore_run(url, transport_name):
    from signalrcore.hub_connection_builder import HubConnectionBuilder
    from signalrcore.types import HttpTransportType

    transport = {
        "WebSockets": HttpTransportType.web_sockets,
        "ServerSentEvents": HttpTransportType.server_sent_events,
        "LongPolling": HttpTransportType.long_polling,
    }[transport_name]
    hub = HubConnectionBuilder().with_url(url, options={"transport": transport}).build()
    opened = threading.Event()
    hub.on_open(opened.set)
    ticks = []
    hub.on("tick", lambda args: ticks.append(list(args)))
    hub.start()
    try:
        assert opened.wait(10), "no open"
        results = queue.Queue()

        def done(message):
            message = message[0] if isinstance(message, list) else message
            results.put(message.result)

        hub.invoke("Add", [2, 3], on_invocation=done)
        assert results.get(timeout=10) == 5
        if transport_name == "LongPolling":
            return
        hub.invoke("Tick", ["t", 2], on_invocation=done)
        assert results.get(timeout=10) == 2
        assert ticks == [["t", 0], ["t", 1]], ticks
    finally:
        hub.stop()


async def pysignalr_run(url):
    from pysignalr.client import SignalRClient

    client = SignalRClient(url)
    loop = asyncio.get_running_loop()
    results = asyncio.Queue()
    ticks = []

    async def on_tick(args):
        ticks.append(list(args))

    async def on_result(message):
        await results.put(message.result)

    async def on_open():
        await client.send("Add", [2, 3], on_invocation=on_result)
        await client.send("Tick", ["t", 2], on_invocation=on_result)

    client.on("tick", on_tick)
    client.on_open(on_open)
    task = loop.create_task(client.run())
    try:
        assert await asyncio.wait_for(results.get(), 10) == 5
        assert await asyncio.wait_for(results.get(), 10) == 2
        assert ticks == [["t", 0], ["t", 1]], ticks
    finally:
        task.cancel()
        try:
            await task
        except BaseException:  # noqa: BLE001 - the cancelled run loop
            pass


def main():
    url = sys.argv[1]
    failed = 0
    runs = [("signalrcore", t, lambda t=t: signalrcore_run(url, t)) for t in ("WebSockets", "ServerSentEvents", "LongPolling")]
    runs.append(("pysignalr", "WebSockets", lambda: asyncio.run(pysignalr_run(url))))
    for client, transport, run in runs:
        try:
            run()
            print(json.dumps({"client": client, "transport": transport, "ok": True}), flush=True)
        except BaseException as e:  # noqa: BLE001 - reported, not raised
            failed += 1
            error = "".join(traceback.format_exception(e))[-600:]
            print(json.dumps({"client": client, "transport": transport, "ok": False, "error": error}), flush=True)
    sys.exit(1 if failed else 0)


main()
