#!/usr/bin/env node
// Drives examples/engine_echo.rs with engine.io-client 6 over each transport: long-polling
// only, WebSocket only, and polling upgraded to WebSocket. Each session sends a text, a
// binary and a 100 kB message, prints the echoes, and closes.
//
//   node peers/examples/engine_echo.js http://127.0.0.1:3000
"use strict";

const { Socket } = require("engine.io-client");
const { print, fail, TIMEOUT_MS } = require("./lib");

const url = process.argv[2] || "http://127.0.0.1:3000";

const SCENARIOS = {
  polling: { upgrade: false },
  websocket: { transports: ["websocket"] },
  upgrade: {},
};

const TEXT = "hello € 😀";
const BINARY = [1, 2, 3, 255];
const BIG = "x".repeat(100_000);

function describe(data) {
  if (typeof data === "string") return data.length > 100 ? { text_length: data.length } : { text: data };
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
  return { binary: [...bytes] };
}

function session(name) {
  return new Promise((resolve, reject) => {
    const socket = new Socket(url, SCENARIOS[name]);
    const echoes = [];
    const timer = setTimeout(() => reject(new Error(`${name}: timed out`)), TIMEOUT_MS);
    let sent = false;
    const send = () => {
      // With an upgrade pending, wait for it so that the echoes travel over WebSocket.
      if (sent || (name === "upgrade" && socket.transport.name !== "websocket")) return;
      sent = true;
      socket.send(TEXT);
      socket.send(Buffer.from(BINARY));
      socket.send(BIG);
    };
    socket.on("open", send);
    socket.on("upgrade", send);
    socket.on("message", (data) => {
      echoes.push(describe(data));
      if (echoes.length === 3) {
        const transport = socket.transport.name;
        socket.on("close", (reason) => {
          clearTimeout(timer);
          resolve({ scenario: name, transport, echoes, close: reason });
        });
        socket.close();
      }
    });
    socket.on("error", (err) => reject(new Error(`${name}: ${err && (err.message || err)}`)));
  });
}

(async () => {
  for (const name of Object.keys(SCENARIOS)) {
    print(await session(name));
  }
  print({ done: true });
  process.exit(0);
})().catch(fail);
