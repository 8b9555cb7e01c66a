#!/usr/bin/env node
// The official @microsoft/signalr client's CPU per received message, as crates/signalr/examples/
// flood.rs measures ours: node bench/signalr/flood-official.js URL json|messagepack N
"use strict";
const path = require("path");
const peers = path.join(__dirname, "../../peers/node_modules");
const signalR = require(path.join(peers, "@microsoft/signalr"));
const { MessagePackHubProtocol } = require(path.join(peers, "@microsoft/signalr-protocol-msgpack"));

(async () => {
  const [url, protocol = "json", count = "100000"] = process.argv.slice(2);
  const n = Number(count);
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(url, { transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel.None);
  if (protocol === "messagepack") builder.withHubProtocol(new MessagePackHubProtocol());
  const c = builder.build();
  let received = 0;
  c.on("tick", (i, pad) => { if (typeof pad === "string") received += 1; });
  await c.start();
  const cpu = process.cpuUsage();
  const wall = process.hrtime.bigint();
  const sent = await c.invoke("Flood", n, 16);
  const used = process.cpuUsage(cpu);
  const wallMs = Number(process.hrtime.bigint() - wall) / 1e6;
  await c.stop();
  if (received !== sent || sent !== n) throw new Error(`received ${received} of ${sent}`);
  const cpuMs = (used.user + used.system) / 1000;
  console.log(JSON.stringify({ client: "@microsoft/signalr", protocol, messages: n, cpu_ms: Math.round(cpuMs), wall_ms: Math.round(wallMs), cpu_us_per_message: +(cpuMs * 1000 / n).toFixed(3) }));
})().catch((e) => { console.error(e); process.exit(1); });
