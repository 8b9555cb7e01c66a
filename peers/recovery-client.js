#!/usr/bin/env node
// One socket.io-client 4 socket whose connection is dropped and resumed on ANOTHER server, for
// the cross-node connection state recovery tests of crates/redis-adapter.
//
//   node peers/recovery-client.js <url>
//
// Commands (stdin, one JSON object a line):
//   {"op":"join","room":R}        emitWithAck("join", R), prints {"ev":"joined"}
//   {"op":"drop"}                 closes the connection as a network failure would (no reconnection yet);
//                                 prints {"ev":"disconnect","reason"}
//   {"op":"resume","url":U}       reconnects, to server U: the client sends its pid and last offset
// Events (stdout): {"ev":"connect","id","recovered"}, {"ev":"event","name","args"} (the offset the
// server appends is left out), {"ev":"fail","error"}.
"use strict";

const { io } = require("socket.io-client");

const print = (event) => process.stdout.write(JSON.stringify(event) + "\n");
const fail = (error) => {
  print({ ev: "fail", error: String(error && error.stack ? error.stack : error) });
  process.exit(1);
};
process.on("uncaughtException", fail);
setTimeout(() => fail("timeout"), 60000).unref();

const socket = io(process.argv[2], { transports: ["websocket"], reconnection: false });
socket.on("connect", () => print({ ev: "connect", id: socket.id, recovered: socket.recovered }));
socket.on("disconnect", (reason) => print({ ev: "disconnect", reason }));
socket.on("connect_error", (err) => print({ ev: "connect_error", message: err.message }));
socket.onAny((name, ...args) => {
  // With recovery on, the last argument is the offset the server added.
  if (typeof args[args.length - 1] === "string" && socket._pid) args.pop();
  print({ ev: "event", name, args });
});

let buffered = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  buffered += chunk;
  let newline;
  while ((newline = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, newline).trim();
    buffered = buffered.slice(newline + 1);
    if (!line) continue;
    const command = JSON.parse(line);
    switch (command.op) {
      case "join":
        socket.emitWithAck("join", command.room).then(() => print({ ev: "joined" }), fail);
        break;
      case "drop":
        socket.io.engine.close();
        break;
      case "resume":
        socket.io.uri = command.url;
        socket.connect();
        break;
      default:
        fail(`unknown op ${command.op}`);
    }
  }
});
process.stdin.on("end", () => process.exit(0));
print({ ev: "ready" });
