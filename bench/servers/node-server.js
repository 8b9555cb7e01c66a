// The benchmark contract on Node socket.io 4 (peers/node_modules):
//   node bench/servers/node-server.js --port N [--redis redis://HOST:PORT]
// Every socket joins room `room`; `echo` acks with its arguments (or emits `echo` back when no
// ack is asked); `fan` broadcasts `f` with its arguments to `room` (all members but the sender).
// With --redis the server is a cluster node on @socket.io/redis-adapter (the classic pub/sub
// createAdapter, on ioredis), so broadcasts reach the room's members on the other nodes too.
"use strict";
const http = require("http");
const path = require("path");
const modules = path.join(__dirname, "../../peers/node_modules");
const { Server } = require(path.join(modules, "socket.io"));

function option(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const port = Number(option("port") ?? 3000);
const redisUrl = option("redis");

const httpServer = http.createServer();
// TCP_NODELAY, as the other servers do.
httpServer.on("connection", (socket) => socket.setNoDelay(true));
const io = new Server(httpServer, { serveClient: false, maxHttpBufferSize: 1e8 });
const ready = [];
if (redisUrl !== undefined) {
  const Redis = require(path.join(modules, "ioredis"));
  const { createAdapter } = require(path.join(modules, "@socket.io/redis-adapter"));
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();
  for (const client of [pub, sub]) {
    client.on("error", (error) => console.error(`node-server: redis: ${error.message}`));
    ready.push(new Promise((resolve) => client.once("ready", resolve)));
  }
  io.adapter(createAdapter(pub, sub));
}
io.on("connection", (socket) => {
  socket.join("room");
  socket.on("echo", (...args) => {
    const last = args[args.length - 1];
    if (typeof last === "function") {
      args.pop();
      last(...args);
    } else {
      socket.emit("echo", ...args);
    }
  });
  socket.on("fan", (...args) => {
    socket.to("room").emit("f", ...args);
  });
});
// Redis is reached before `listening` is printed (the subscriptions follow).
Promise.all(ready).then(() => {
  httpServer.listen(port, "127.0.0.1", () => {
    console.log(`listening ${httpServer.address().port}`);
  });
});
