// The benchmark contract on Node socket.io 4 (peers/node_modules):
//   node bench/servers/node-server.js --port N
// Every socket joins room `room`; `echo` acks with its arguments (or emits `echo` back when no
// ack is asked); `fan` broadcasts `f` with its arguments to `room` (all members but the sender).
"use strict";
const http = require("http");
const path = require("path");
const { Server } = require(path.join(__dirname, "../../peers/node_modules/socket.io"));

const portIndex = process.argv.indexOf("--port");
const port = portIndex > 0 ? Number(process.argv[portIndex + 1]) : 3000;

const httpServer = http.createServer();
// TCP_NODELAY, as the other servers do.
httpServer.on("connection", (socket) => socket.setNoDelay(true));
const io = new Server(httpServer, { serveClient: false, maxHttpBufferSize: 1e8 });
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
httpServer.listen(port, "127.0.0.1", () => {
  console.log(`listening ${httpServer.address().port}`);
});
