#!/usr/bin/env node
// A real Socket.IO server for the interop tests of crates/client (the Rust client).
//
//   node peers/sio-server.js <v4|v2|v09> ['{"port":0,"transports":[...],"parser":"msgpack","recovery":true}']
//
// v4 is socket.io 4.8 (protocol v5), v2 is socket.io 2.5 (protocol v4, Engine.IO 3), v09 is
// socket.io 0.9.19. It prints {"port":N} once listening (port 0 picks a free one; pass the
// same port again to restart a server in place).
//
// Contract, on namespaces "/" and "/admin":
// - a handshake whose auth (v4) or query (v2, v09) has token "bad" is refused with "unauthorized";
// - on connection it emits "welcome" {id, nsp, auth, conn} (conn: the Engine.IO / 0.9 session id);
// - "echo" ...args: acknowledges with the args when asked to, else emits "echo" ...args back;
// - "binary": emits "binary" {nested:{buf:<1,2,3>}, list:[<4,5>], n:1} (v4, v2) and acknowledges
//   with <6,7>;
// - "ask" ...args: emits "question" ...args with an acknowledgement request, then emits
//   "answer" with what the client answered;
// - "close-transport": closes the connection under the socket (a transport close), then
//   emits "tick" "missed" to everyone 100 ms later (for connection state recovery);
// - "kick": disconnects the socket from the server side;
// - "tick" n: emits "tick" n to everyone;
// - "transport" (v4, v2): acknowledges with the name of the transport in use.
"use strict";

const http = require("http");
const [version = "v4", optsJson = "{}"] = process.argv.slice(2);
const opts = JSON.parse(optsJson);
const server = http.createServer();

function authOf(socket) {
  if (version === "v4") return socket.handshake.auth || {};
  const query = Object.assign({}, socket.handshake.query || {});
  delete query.EIO; delete query.transport; delete query.t; delete query.b64; delete query.sid;
  return query;
}

function handlers(io, nsp, socket) {
  socket.emit("welcome", { id: socket.id, nsp, auth: authOf(socket), conn: socket.conn ? socket.conn.id : socket.id });
  socket.on("echo", (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    if (ack) ack(...args);
    else socket.emit("echo", ...args);
  });
  socket.on("binary", (ack) => {
    socket.emit("binary", { nested: { buf: Buffer.from([1, 2, 3]) }, list: [Buffer.from([4, 5])], n: 1 });
    if (typeof ack === "function") ack(Buffer.from([6, 7]));
  });
  socket.on("ask", (...args) => {
    socket.emit("question", ...args, (...answer) => socket.emit("answer", ...answer));
  });
  socket.on("close-transport", () => {
    socket.conn.close();
    setTimeout(() => io.of(nsp).emit("tick", "missed"), 100);
  });
  socket.on("kick", () => socket.disconnect(true));
  socket.on("tick", (n) => io.of(nsp).emit("tick", n));
  socket.on("transport", (ack) => ack(socket.conn.transport.name));
}

function listen() {
  server.listen(opts.port || 0, "127.0.0.1", () => {
    process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
  });
}

if (version === "v4" || version === "v2") {
  const options = {};
  if (opts.transports) options.transports = opts.transports;
  if (opts.pingInterval) options.pingInterval = opts.pingInterval;
  if (opts.pingTimeout) options.pingTimeout = opts.pingTimeout;
  let io;
  if (version === "v4") {
    const { Server } = require("socket.io");
    if (opts.parser === "msgpack") options.parser = require("socket.io-msgpack-parser");
    if (opts.recovery) options.connectionStateRecovery = { maxDisconnectionDuration: 60000, skipMiddlewares: true };
    io = new Server(server, options);
  } else {
    io = require("socket.io-v2")(server, options);
  }
  for (const nsp of ["/", "/admin"]) {
    const namespace = io.of(nsp);
    namespace.use((socket, next) => {
      if (authOf(socket).token === "bad") next(new Error("unauthorized"));
      else next();
    });
    namespace.on("connection", (socket) => handlers(io, nsp, socket));
  }
  listen();
} else if (version === "v09") {
  const io = require("socket.io-v09").listen(server, { log: false });
  io.set("log level", 0);
  if (opts.transports) io.set("transports", opts.transports);
  if (opts.heartbeatInterval) io.set("heartbeat interval", opts.heartbeatInterval);
  io.set("authorization", (handshake, callback) => {
    if (handshake.query && handshake.query.token === "bad") callback(null, false);
    else callback(null, true);
  });
  for (const nsp of ["", "/admin"]) {
    const namespace = nsp ? io.of(nsp) : io.sockets;
    namespace.on("connection", (socket) => {
      socket.emit("welcome", { id: socket.id, nsp: nsp || "/", auth: authOf(socket), conn: socket.id });
      socket.on("echo", function () {
        const args = Array.prototype.slice.call(arguments);
        const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
        if (ack) ack.apply(null, args);
        else socket.emit.apply(socket, ["echo"].concat(args));
      });
      socket.on("ask", function () {
        const args = Array.prototype.slice.call(arguments);
        // 0.9 asks for an answer with data only when the callback declares parameters.
        socket.emit.apply(socket, ["question"].concat(args, [function (answer, n) {
          socket.emit.apply(socket, ["answer"].concat(Array.prototype.slice.call(arguments)));
        }]));
      });
      socket.on("kick", () => socket.disconnect());
      socket.on("tick", (n) => namespace.emit("tick", n));
    });
  }
  listen();
} else {
  console.error("usage: sio-server.js <v4|v2|v09> [options]");
  process.exit(2);
}
