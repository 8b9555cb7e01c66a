#!/usr/bin/env node
// One node of a Socket.IO cluster on Redis with the official npm packages: socket.io 4 and
// @socket.io/redis-adapter (createAdapter, or createShardedAdapter) or
// @socket.io/redis-streams-adapter, on ioredis. It has the same
// contract as examples/cluster_node.rs, so the tests can mix Rust and Node nodes in one cluster.
//
//   node peers/cluster-node.js --port N --redis redis://127.0.0.1:P [--adapter pubsub|sharded|streams] [--key PREFIX] [--requests-timeout MS] [--recovery]
//
// Prints "listening on N" once ready. Client requests (all acknowledged):
//   (connect)                    emits "auth" with the handshake's auth
//   join ROOM / leave ROOM       true
//   to-room ROOM EVENT ...ARGS   io.to(ROOM).emit(EVENT, ...ARGS), true
//   count                        number of sockets of "/" on this node
//   server-count                 number of nodes
//   fetch-sockets ROOM           sorted ids of the room's sockets on every node
//   ask-room ROOM EVENT ...ARGS  io.to(ROOM).timeout(2000).emitWithAck(...): the sorted answers
//   sockets-join ROOM NEW / sockets-leave ROOM OLD / disconnect-room ROOM   true
//   server-side-emit EVENT ...ARGS   io.serverSideEmitWithAck: the sorted answers
// Answers the server-side event "whoami" with "node:PORT"; the server-side event
// "relay" ROOM EVENT ...ARGS emits EVENT to this node's sockets of ROOM. Failures are acked with {error}.
"use strict";

const { Server } = require("socket.io");
const Redis = require("ioredis");

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const port = Number(option("port", 3000));
const url = option("redis", "redis://127.0.0.1:6379");
const kind = option("adapter", "pubsub");
const key = option("key", "socket.io");
const requestsTimeout = Number(option("requests-timeout", 5000));

const pub = new Redis(url);
pub.on("error", () => {});

let adapter;
if (kind === "pubsub") {
  const sub = pub.duplicate();
  sub.on("error", () => {});
  adapter = require("@socket.io/redis-adapter").createAdapter(pub, sub, { key, requestsTimeout });
} else if (kind === "sharded") {
  const sub = pub.duplicate();
  sub.on("error", () => {});
  adapter = require("@socket.io/redis-adapter").createShardedAdapter(pub, sub, {
    channelPrefix: key,
  });
} else if (kind === "streams") {
  adapter = require("@socket.io/redis-streams-adapter").createAdapter(pub, { channelPrefix: key });
} else {
  console.error(`--adapter ${kind}: pubsub, sharded or streams`);
  process.exit(2);
}

const io = new Server({
  adapter,
  connectionStateRecovery: process.argv.includes("--recovery") ? {} : undefined,
});
const sortValues = (values) => values.slice().sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
const failure = (err) => ({ error: String(err && err.message ? err.message : err) });

io.on("whoami", (ack) => ack(`node:${port}`));
// From other nodes or an emitter: emit to this node's sockets of a room.
io.on("relay", (room, event, ...args) => {
  if (typeof args[args.length - 1] === "function") args.pop()(true);
  io.local.to(room).emit(event, ...args);
});

io.on("connection", (socket) => {
  socket.emit("auth", socket.handshake.auth);
  socket.on("join", (room, ack) => {
    socket.join(room);
    ack(true);
  });
  socket.on("leave", (room, ack) => {
    socket.leave(room);
    ack(true);
  });
  socket.on("to-room", (room, event, ...rest) => {
    const ack = rest.pop();
    io.to(room).emit(event, ...rest);
    ack(true);
  });
  socket.on("count", (ack) => ack(io.of("/").sockets.size));
  socket.on("server-count", async (ack) => {
    try {
      ack(await io.of("/").adapter.serverCount());
    } catch (err) {
      ack(failure(err));
    }
  });
  socket.on("fetch-sockets", async (room, ack) => {
    try {
      const sockets = await io.in(room).fetchSockets();
      ack(sockets.map((s) => s.id).sort());
    } catch (err) {
      ack(failure(err));
    }
  });
  socket.on("ask-room", async (room, event, ...rest) => {
    const ack = rest.pop();
    try {
      ack(sortValues(await io.to(room).timeout(2000).emitWithAck(event, ...rest)));
    } catch (err) {
      ack(failure(err));
    }
  });
  socket.on("sockets-join", (room, add, ack) => {
    io.in(room).socketsJoin(add);
    ack(true);
  });
  socket.on("sockets-leave", (room, remove, ack) => {
    io.in(room).socketsLeave(remove);
    ack(true);
  });
  socket.on("disconnect-room", (room, ack) => {
    io.in(room).disconnectSockets();
    ack(true);
  });
  socket.on("server-side-emit", async (event, ...rest) => {
    const ack = rest.pop();
    try {
      ack(sortValues(await io.serverSideEmitWithAck(event, ...rest)));
    } catch (err) {
      ack(failure(err));
    }
  });
});

io.listen(port);
process.stdout.write(`listening on ${port}\n`);
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
