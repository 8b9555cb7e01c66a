#!/usr/bin/env node
// Drives examples/axum_integration.rs: the axum routes and the Socket.IO server on one port.
//
//   node peers/examples/axum_integration.js http://127.0.0.1:3000
"use strict";

const { Client, print, run, sleep, TIMEOUT_MS } = require("./lib");

const url = process.argv[2] || "http://127.0.0.1:3000";

async function http(method, path, body) {
  const res = await fetch(url + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const type = res.headers.get("content-type") || "";
  const text = await res.text();
  return { status: res.status, type, body: type.includes("json") ? JSON.parse(text) : text };
}

// Waits until the client left long-polling for WebSocket (through axum::serve's upgrades).
async function upgraded(client) {
  for (let waited = 0; waited < TIMEOUT_MS; waited += 20) {
    if (client.socket.io.engine.transport.name === "websocket") return "websocket";
    await sleep(20);
  }
  return client.socket.io.engine.transport.name;
}

const clients = [];
run(clients, async () => {
  const page = await http("GET", "/");
  print({ index: page.status, html: page.type.startsWith("text/html"), has_client: page.body.includes("io()") });
  print({ stats_before: (await http("GET", "/api/stats")).body });

  clients.push(new Client("a", url), new Client("b", url));
  const welcomes = await Promise.all(clients.map((c) => c.next("welcome")));
  print({ welcomed: welcomes.every(([w], i) => w.id === clients[i].socket.id) });
  print({ transports: await Promise.all(clients.map(upgraded)) });
  print({ stats_connected: (await http("GET", "/api/stats")).body });

  const [sent, a, b] = await Promise.all([
    http("POST", "/api/announce", { text: "deploy at 5pm" }),
    clients[0].next("announcement"),
    clients[1].next("announcement"),
  ]);
  print({ announce: sent.status, body: sent.body, a, b });

  print({ bad_json: (await http("POST", "/api/announce", "{not json")).status });
  print({ wrong_shape: (await http("POST", "/api/announce", { message: 1 })).status });
  print({ not_found: (await http("GET", "/nope")).status });

  // The server learns of the departure a moment later: ask until it shows (or give up).
  clients[0].socket.disconnect();
  let stats;
  for (let waited = 0; waited < TIMEOUT_MS; waited += 20) {
    stats = (await http("GET", "/api/stats")).body;
    if (stats.sockets === 1) break;
    await sleep(20);
  }
  print({ stats_after_one_left: stats });
});
