#!/usr/bin/env python3
"""A python-socketio server behind an HTTP/1.0 server that closes the connection after every
response (the standard library's wsgiref, one thread per request), for the client's tests of
servers and proxies that do not keep connections alive. Long-polling only: wsgiref cannot
hand a connection over to WebSocket.

    peers/.venv/bin/python peers/sio_server_http10.py '{"port":0}'

Namespace "/": "echo" acknowledges with its arguments and emits "echo" back with them.
Prints {"port": N} once listening.
"""
import json
import socketserver
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import socketio

opts = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
sio = socketio.Server(async_mode="threading", transports=["polling"])


@sio.on("echo")
def echo(sid, *args):
    sio.emit("echo", args, to=sid)
    return args


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


server = make_server(
    "127.0.0.1",
    opts.get("port", 0),
    socketio.WSGIApp(sio),
    server_class=ThreadingWSGIServer,
    handler_class=QuietHandler,
)
print(json.dumps({"port": server.server_port}), flush=True)
server.serve_forever()
