#!/usr/bin/env node
// Drives a real Engine.IO client from npm against a server under test and prints one JSON line
// per event on stdout, for crates/engineio/tests/node_clients.rs to check.
//
//   node peers/eio-client.js <url> <scenario> [v4|v3]
//
// v4 is engine.io-client 6.x (Socket.IO 3/4), v3 is engine.io-client 3.5 (Socket.IO 2).
// Scenarios:
//   default         polling, upgrade to websocket, then exchange messages
//   websocket       websocket only
//   polling         polling only (upgrade: false)
//   base64          forceBase64, with the upgrade: binary travels as base64 text frames
//   base64-polling  forceBase64, polling only (b64=1)
//   heartbeat       default, but first wait for 5 heartbeats (pongs) before exchanging
// Exchange: send a text and a binary message, print the two echoes, close, print the close.
// Events: {"event":"open","transport":…,"sid":…}, {"event":"upgrade","transport":…},
// {"event":"message","text":…} or {"event":"message","binary":[…]}, {"event":"pong"},
// {"event":"close","reason":…}, {"event":"error",…}, {"event":"fail","reason":…}.
// The script always ends by itself: exit 0 once closed, 1 on failure or after a timeout.
"use strict";

const [url, scenario, version = "v4"] = process.argv.slice(2);
const TIMEOUT_MS = Number(process.env.EIO_CLIENT_TIMEOUT_MS || 10000);
const HEARTBEATS = 5;

function print(event) {
  process.stdout.write(JSON.stringify(event) + "\n");
}

function fail(reason) {
  print({ event: "fail", reason });
  process.exit(1);
}

const options = {
  default: {},
  websocket: { transports: ["websocket"] },
  polling: { upgrade: false },
  base64: { forceBase64: true },
  "base64-polling": { forceBase64: true, upgrade: false },
  heartbeat: {},
}[scenario];
if (!url || !options) {
  fail(`usage: eio-client.js <url> <${"default|websocket|polling|base64|base64-polling|heartbeat"}> [v4|v3]`);
}
const expectUpgrade = options.upgrade !== false && !options.transports;

let socket;
if (version === "v4") {
  const { Socket } = require("engine.io-client");
  socket = new Socket(url, { ...options, path: "/engine.io/" });
} else if (version === "v3") {
  const eio = require("engine.io-client-v3");
  socket = eio(url, { ...options, path: "/engine.io/" });
} else {
  fail(`unknown client version ${version}`);
}

const deadline = setTimeout(() => fail(`timeout after ${TIMEOUT_MS} ms`), TIMEOUT_MS);

function toBuffer(data) {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

const TEXT = "hello € 😀";
const BINARY = [1, 2, 3, 255];
let exchanging = false;
let echoes = 0;
let pongs = 0;

function exchange() {
  if (exchanging) return;
  exchanging = true;
  socket.send(TEXT);
  socket.send(Buffer.from(BINARY));
}

// Exchanging starts once the client uses the transport the scenario is about.
function maybeExchange() {
  if (scenario === "heartbeat" && pongs < HEARTBEATS) return;
  if (expectUpgrade && socket.transport.name !== "websocket") return;
  exchange();
}

socket.on("open", () => {
  print({ event: "open", transport: socket.transport.name, sid: socket.id });
  maybeExchange();
});
socket.on("upgrade", (transport) => {
  print({ event: "upgrade", transport: transport.name });
  maybeExchange();
});
socket.on("upgradeError", (err) => print({ event: "upgradeError", message: String(err && err.message) }));
socket.on("pong", () => {
  pongs += 1;
  if (scenario === "heartbeat") print({ event: "pong" });
  maybeExchange();
});
socket.on("message", (data) => {
  const bytes = typeof data === "string" ? null : toBuffer(data);
  if (bytes) print({ event: "message", binary: [...bytes] });
  else print({ event: "message", text: data });
  echoes += 1;
  if (!exchanging) fail("a message arrived before any was sent");
  if (echoes === 2) {
    print({ event: "transport", transport: socket.transport.name });
    socket.close();
  }
});
socket.on("error", (err) => print({ event: "error", message: String(err && (err.message || err)) }));
socket.on("close", (reason) => {
  print({ event: "close", reason });
  // Node exits by itself once the close packet or frame has left; the timer only guards
  // against a client that would keep something open.
  process.exitCode = echoes === 2 ? 0 : 1;
  clearTimeout(deadline);
  setTimeout(() => process.exit(), 3000).unref();
});
