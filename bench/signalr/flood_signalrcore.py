#!/usr/bin/env python3
"""signalrcore's CPU per received message, as crates/signalr/examples/flood.rs measures ours.

    peers/.venv/bin/python bench/signalr/flood_signalrcore.py URL json|messagepack N
"""

import json
import queue
import resource
import sys
import threading
import time

from signalrcore.hub_connection_builder import HubConnectionBuilder
from signalrcore.protocol.messagepack_protocol import MessagePackHubProtocol
from signalrcore.types import HttpTransportType


def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main():
    url, protocol, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    builder = HubConnectionBuilder().with_url(url, options={"transport": HttpTransportType.web_sockets})
    if protocol == "messagepack":
        builder = builder.with_hub_protocol(MessagePackHubProtocol())
    hub = builder.build()
    opened = threading.Event()
    hub.on_open(opened.set)
    received = [0]

    def tick(args):
        if isinstance(args[1], str):
            received[0] += 1

    hub.on("tick", tick)
    hub.start()
    assert opened.wait(10)
    done = queue.Queue()
    start_cpu, start_wall = cpu(), time.monotonic()
    hub.invoke("Flood", [n, 16], on_invocation=lambda m: done.put(m[0] if isinstance(m, list) else m))
    result = done.get(timeout=600).result
    used, wall = cpu() - start_cpu, time.monotonic() - start_wall
    hub.stop()
    if received[0] != n or result != n:
        raise SystemExit(f"received {received[0]} of {result}")
    print(json.dumps({"client": "signalrcore", "protocol": protocol, "messages": n, "cpu_ms": round(used * 1000),
                      "wall_ms": round(wall * 1000), "cpu_us_per_message": round(used * 1e6 / n, 3)}))


main()
