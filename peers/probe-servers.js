#!/usr/bin/env node
// Real servers for the `sio probe` tests (crates/cli/tests/probe.rs), one per run:
//
//   node peers/probe-servers.js <kind>
//
// Listens on 127.0.0.1 on a free port, prints `PORT <n>` on a line of its own, and serves until
// its standard input closes (the test holds it open), then exits.
// Kinds:
//   socket.io           npm socket.io 4 with its defaults
//   socket.io-eio3      socket.io 4 with allowEIO3 (accepts Socket.IO 2.x clients)
//   socket.io-ws-only   socket.io 4 with transports: ["websocket"]
//   socket.io-path      socket.io 4 on path /realtime/
//   socket.io-auth      socket.io 4 whose middleware refuses every connection ("not authorized")
//   socket.io-v2        npm socket.io 2.5.1
//   engine.io-v3        the engine.io 3 server under socket.io 2.5.1, without Socket.IO (path /engine.io/)
//   engine.io-v4        npm engine.io 6, without Socket.IO (path /engine.io/)
//   socket.io-v09       npm socket.io 0.9.19
//   signalr             a fake ASP.NET Core SignalR hub at /hubs/chat (negotiate only)
//   plain               a plain HTTP server: a page at /, 404 elsewhere
"use strict";

const http = require("http");
const path = require("path");

const kind = process.argv[2];
const modules = path.join(__dirname, "node_modules");

function need(name) {
  try {
    return require(path.join(modules, name));
  } catch (error) {
    process.stderr.write(
      `probe-servers: cannot load ${name} from peers/node_modules (${error.message}): run scripts/setup-peers\n`
    );
    process.exit(2);
  }
}

function plain(req, res) {
  if (req.url === "/" || req.url.startsWith("/?")) {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end("<!doctype html><title>Welcome</title><h1>It works</h1>");
  } else {
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("Not Found");
  }
}

const server = http.createServer();
// Attached Engine.IO and 0.9 servers hand the requests outside their path to the listeners that
// were there before them: answer those like a plain web server.
if (kind !== "signalr") server.on("request", plain);

switch (kind) {
  case "socket.io":
  case "socket.io-eio3":
  case "socket.io-ws-only":
  case "socket.io-path":
  case "socket.io-auth": {
    const { Server } = need("socket.io");
    const options = {
      "socket.io-eio3": { allowEIO3: true },
      "socket.io-ws-only": { transports: ["websocket"] },
      "socket.io-path": { path: "/realtime/" },
    }[kind] || {};
    const io = new Server(server, options);
    if (kind === "socket.io-auth") {
      io.use((socket, next) => next(new Error("not authorized")));
    }
    io.on("connection", (socket) => socket.on("echo", (...args) => socket.emit("echo", ...args)));
    break;
  }
  case "socket.io-v2": {
    const io = need("socket.io-v2")(server);
    io.on("connection", (socket) => socket.on("echo", (...args) => socket.emit("echo", ...args)));
    break;
  }
  case "engine.io-v3": {
    const engine = need("socket.io-v2/node_modules/engine.io");
    engine.attach(server).on("connection", (socket) => socket.on("message", (m) => socket.send(m)));
    break;
  }
  case "engine.io-v4": {
    const engine = need("engine.io");
    engine.attach(server).on("connection", (socket) => socket.on("message", (m) => socket.send(m)));
    break;
  }
  case "socket.io-v09": {
    const io = need("socket.io-v09").listen(server, { log: false });
    io.sockets.on("connection", (socket) => socket.on("echo", (data) => socket.emit("echo", data)));
    break;
  }
  case "signalr": {
    server.on("request", (req, res) => {
      if (req.method === "POST" && req.url.startsWith("/hubs/chat/negotiate")) {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(
          JSON.stringify({
            negotiateVersion: 1,
            connectionId: "Gd2Ys9ZvXKHSaYwhW0JTjA",
            connectionToken: "L2MZ9n9E1mSnqOpdx1CqPg",
            availableTransports: [
              { transport: "WebSockets", transferFormats: ["Text", "Binary"] },
              { transport: "ServerSentEvents", transferFormats: ["Text"] },
              { transport: "LongPolling", transferFormats: ["Text", "Binary"] },
            ],
          })
        );
      } else {
        // What Kestrel answers for an unmapped path: 404 with no body.
        res.writeHead(404);
        res.end();
      }
    });
    break;
  }
  case "plain":
    break;
  default:
    process.stderr.write(`probe-servers: unknown kind ${JSON.stringify(kind)}\n`);
    process.exit(2);
}

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
