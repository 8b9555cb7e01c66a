#!/usr/bin/env node
// Drives real Socket.IO clients from npm against a server under test, for the interop tests of
// crates/server. It reads commands from stdin and prints what the clients see on stdout, one JSON
// object per line, so a test can react to each step instead of sleeping.
//
//   node peers/sio-client.js <url> [v4|v2]
//
// v4 is socket.io-client 4.8 (protocol v5), v2 is socket.io-client 2.5 (protocol v4, Engine.IO v3).
//
// Commands (stdin):
//   {"op":"manager","m":M,"opts":{...}}        a Manager (one Engine.IO connection) for <url>;
//                                               opts are the client's, plus "parser":"msgpack"
//   {"op":"socket","s":S,"m":M,"nsp":N,"opts":{...}}
//                                               a Socket of manager M on namespace N (v4 opts: auth;
//                                               v2 opts: query); it connects at once
//   {"op":"emit","s":S,"event":E,"args":[...]}  socket.emit(E, ...args)
//   {"op":"call","s":S,"req":R,"event":E,"args":[...],"timeout":ms?,"promise":bool?}
//                                               emit with an acknowledgement (a callback, or v4's
//                                               emitWithAck with "promise"); prints "ack" or "ack_error"
//   {"op":"ack","s":S,"ack":K,"args":[...]}     answers the server's acknowledgement request K
//   {"op":"disconnect","s":S} / {"op":"connect","s":S}
//   {"op":"close-engine","m":M}                 closes the Engine.IO connection from the client side
//   {"op":"state","s":S}                        prints the socket's and its connection's state
//   {"op":"exit"}
// Binary values travel as {"$bin":[bytes...]} in both directions.
//
// Events (stdout): {"ev":"ready"}, {"ev":"open","m","engine","transport"}, {"ev":"upgrade","m","transport"},
// {"ev":"close","m","reason"}, {"ev":"connect","s","id","recovered","transport"},
// {"ev":"connect_error","s","message","data"} (v4), {"ev":"error","s","error"} (v2),
// {"ev":"disconnect","s","reason"}, {"ev":"event","s","name","args","ack":K|null},
// {"ev":"ack","req","args"}, {"ev":"ack_error","req","message"},
// {"ev":"state","s","connected","id","engine","transport"}, {"ev":"fail","error"}.
// The script exits when stdin closes, on "exit", or after SIO_CLIENT_TIMEOUT_MS (default 20000).
"use strict";

const [url, version = "v4"] = process.argv.slice(2);
const TIMEOUT_MS = Number(process.env.SIO_CLIENT_TIMEOUT_MS || 20000);

function print(event) {
  process.stdout.write(JSON.stringify(event) + "\n");
}

function fail(error) {
  print({ ev: "fail", error: String(error && error.stack ? error.stack : error) });
  process.exit(1);
}

if (!url || (version !== "v4" && version !== "v2")) {
  fail("usage: sio-client.js <url> [v4|v2]");
}
process.on("uncaughtException", fail);
setTimeout(() => fail(`timeout after ${TIMEOUT_MS} ms`), TIMEOUT_MS).unref();

const lib = version === "v4" ? require("socket.io-client") : require("socket.io-client-v2");
const Manager = lib.Manager;

function isBinary(value) {
  return Buffer.isBuffer(value) || value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

// Client values -> JSON (binary as {"$bin":[...]}); ack callbacks are left out.
function encode(value) {
  if (isBinary(value)) {
    const buf = Buffer.isBuffer(value)
      ? value
      : value instanceof ArrayBuffer
        ? Buffer.from(value)
        : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return { $bin: [...buf] };
  }
  if (Array.isArray(value)) return value.map(encode);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = encode(v);
    return out;
  }
  return value;
}

// JSON -> client values.
function decode(value) {
  if (Array.isArray(value)) return value.map(decode);
  if (value && typeof value === "object") {
    if (Array.isArray(value.$bin) && Object.keys(value).length === 1) return Buffer.from(value.$bin);
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = decode(v);
    return out;
  }
  return value;
}

const managers = new Map();
const sockets = new Map();
const pendingAcks = new Map();
let nextAck = 0;

function engineOf(manager) {
  return manager.engine;
}

function makeManager(m, opts = {}) {
  const options = { ...opts };
  if (options.parser === "msgpack") options.parser = require("socket.io-msgpack-parser");
  const manager = new Manager(url, options);
  manager.on("open", () => {
    const engine = engineOf(manager);
    print({ ev: "open", m, engine: engine.id, transport: engine.transport.name });
    engine.on("upgrade", (transport) => print({ ev: "upgrade", m, transport: transport.name }));
  });
  // `code`: the WebSocket close code (1006 when the connection dropped without a close frame).
  manager.on("close", (reason, description) =>
    print({ ev: "close", m, reason, code: description?.context?.code ?? null }),
  );
  managers.set(m, manager);
  return manager;
}

function makeSocket(s, m, nsp, opts = {}) {
  const manager = managers.get(m) || makeManager(m);
  const socket = manager.socket(nsp, opts);
  sockets.set(s, socket);
  socket.on("connect", () => {
    const engine = engineOf(manager);
    print({
      ev: "connect",
      s,
      id: socket.id,
      recovered: version === "v4" ? Boolean(socket.recovered) : null,
      transport: engine && engine.transport ? engine.transport.name : null,
    });
  });
  socket.on("disconnect", (reason) => print({ ev: "disconnect", s, reason }));
  if (version === "v4") {
    socket.on("connect_error", (err) =>
      print({ ev: "connect_error", s, message: err.message, data: encode(err.data === undefined ? null : err.data) }),
    );
    socket.onAny((name, ...args) => onEvent(s, name, args));
  } else {
    socket.on("error", (error) => print({ ev: "error", s, error: encode(error) }));
    // socket.io-client 2 has no onAny: see every event before the named listeners would.
    socket.onevent = function (packet) {
      const [name, ...args] = packet.data || [];
      if (packet.id != null) args.push(this.ack(packet.id));
      onEvent(s, name, args);
    };
  }
  return socket;
}

function onEvent(s, name, args) {
  let ack = null;
  if (args.length && typeof args[args.length - 1] === "function") {
    ack = nextAck++;
    pendingAcks.set(ack, args.pop());
  }
  print({ ev: "event", s, name, args: encode(args), ack });
}

function socketOf(command) {
  const socket = sockets.get(command.s);
  if (!socket) throw new Error(`unknown socket ${command.s}`);
  return socket;
}

function run(command) {
  switch (command.op) {
    case "manager":
      makeManager(command.m, command.opts);
      break;
    case "socket":
      makeSocket(command.s, command.m, command.nsp || "/", command.opts);
      break;
    case "emit":
      socketOf(command).emit(command.event, ...decode(command.args || []));
      break;
    case "call": {
      const socket = socketOf(command);
      const args = decode(command.args || []);
      const req = command.req;
      const target = command.timeout ? socket.timeout(command.timeout) : socket;
      if (command.promise) {
        // emitWithAck resolves with the first answer argument only.
        target.emitWithAck(command.event, ...args).then(
          (answer) => print({ ev: "ack", req, args: encode([answer]) }),
          (err) => print({ ev: "ack_error", req, message: err.message }),
        );
      } else if (command.timeout) {
        target.emit(command.event, ...args, (err, ...answer) =>
          err ? print({ ev: "ack_error", req, message: err.message }) : print({ ev: "ack", req, args: encode(answer) }),
        );
      } else {
        socket.emit(command.event, ...args, (...answer) => print({ ev: "ack", req, args: encode(answer) }));
      }
      break;
    }
    case "ack": {
      const fn = pendingAcks.get(command.ack);
      if (!fn) throw new Error(`unknown ack ${command.ack}`);
      pendingAcks.delete(command.ack);
      fn(...decode(command.args || []));
      break;
    }
    case "disconnect":
      socketOf(command).disconnect();
      break;
    case "connect":
      socketOf(command).connect();
      break;
    case "close-engine": {
      const manager = managers.get(command.m);
      if (!manager) throw new Error(`unknown manager ${command.m}`);
      engineOf(manager).close();
      break;
    }
    case "state": {
      const socket = socketOf(command);
      const engine = engineOf(socket.io);
      print({
        ev: "state",
        s: command.s,
        connected: socket.connected,
        id: socket.id === undefined ? null : socket.id,
        engine: engine ? engine.id : null,
        transport: engine && engine.transport ? engine.transport.name : null,
      });
      break;
    }
    case "exit":
      process.exit(0);
      break;
    default:
      throw new Error(`unknown op ${command.op}`);
  }
}

let buffered = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  buffered += chunk;
  let newline;
  while ((newline = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, newline).trim();
    buffered = buffered.slice(newline + 1);
    if (!line) continue;
    try {
      run(JSON.parse(line));
    } catch (error) {
      fail(error);
    }
  }
});
process.stdin.on("end", () => process.exit(0));
print({ ev: "ready" });
