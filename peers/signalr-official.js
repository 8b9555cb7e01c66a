#!/usr/bin/env node
// Runs test cases with the official @microsoft/signalr client (+ MessagePack protocol) against
// a hub, to show that a hub our Rust client is tested on is one the official client accepts.
//
//   node peers/signalr-official.js '{"base":"http://127.0.0.1:N","transport":"WebSockets|ServerSentEvents|LongPolling","protocol":"json|messagepack","cases":["echo",...]}'
//
// Prints one JSON line per case, {"case":..., "ok":bool, "error":...}; exits 1 if any failed.
// The cases are those of crates/signalr/tests (see peers/signalr-hub.js for the hub methods).
"use strict";

const signalR = require("@microsoft/signalr");
const { MessagePackHubProtocol } = require("@microsoft/signalr-protocol-msgpack");
const assert = require("assert");

const opts = JSON.parse(process.argv[2] || "{}");

function connect(path, extra = {}) {
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(opts.base + path, Object.assign({ transport: signalR.HttpTransportType[opts.transport] }, extra))
    .configureLogging(signalR.LogLevel.None);
  if (opts.protocol === "messagepack") builder.withHubProtocol(new MessagePackHubProtocol());
  if (extra.reconnect) builder.withAutomaticReconnect(extra.reconnect);
  if (extra.stateful) builder.withStatefulReconnect();
  return builder.build();
}

async function withConnection(path, extra, body) {
  const c = connect(path, extra);
  await c.start();
  try { await body(c); } finally { await c.stop(); }
}

const cases = {
  async echo() { await withConnection("/hub", {}, async (c) => assert.strictEqual(await c.invoke("Echo", "héllo"), "héllo")); },
  async add() { await withConnection("/hub", {}, async (c) => assert.strictEqual(await c.invoke("Add", 2, 3), 5)); },
  async void() { await withConnection("/hub", {}, async (c) => assert.ok((await c.invoke("Void")) == null)); },
  async fail() {
    await withConnection("/hub", {}, async (c) => {
      await assert.rejects(c.invoke("Fail", "boom"), (e) => e.message.includes("boom"));
    });
  },
  async record() {
    await withConnection("/hub", {}, async (c) => {
      await c.send("Record", 1);
      await c.send("Record", { a: [2] });
      assert.deepStrictEqual(await c.invoke("Recorded"), [1, { a: [2] }]);
    });
  },
  async stream() {
    await withConnection("/hub", {}, async (c) => {
      const items = await new Promise((resolve, reject) => {
        const got = [];
        c.stream("Counter", 3, 10).subscribe({ next: (i) => got.push(i), complete: () => resolve(got), error: reject });
      });
      assert.deepStrictEqual(items, [0, 1, 2]);
    });
  },
  async cancel() {
    await withConnection("/hub", {}, async (c) => {
      const id = await new Promise((resolve) => {
        const sub = c.stream("Counter", 1000, 10).subscribe({ next: (i) => { if (i === 1) { sub.dispose(); resolve(); } }, complete() {}, error() {} });
      });
      void id;
      // The CancelInvocation reached the hub before this invocation (same transport, in order).
      assert.ok((await c.invoke("Cancelled")).length >= 1);
    });
  },
  async tick() {
    await withConnection("/hub", {}, async (c) => {
      const got = [];
      c.on("tick", (topic, i) => got.push([topic, i]));
      assert.strictEqual(await c.invoke("Tick", "t", 3), 3);
      assert.deepStrictEqual(got, [["t", 0], ["t", 1], ["t", 2]]);
    });
  },
  async transport() { await withConnection("/hub", {}, async (c) => assert.strictEqual(await c.invoke("Transport"), opts.transport)); },
  async header() {
    await withConnection("/hub", { headers: { "X-Test": "yes" } }, async (c) => assert.strictEqual(await c.invoke("Header", "X-Test"), "yes"));
  },
  async token() {
    await withConnection("/auth/hub", { accessTokenFactory: async () => "secret" }, async (c) => assert.strictEqual(await c.invoke("Token"), "secret"));
  },
  async redirect() { await withConnection("/redirect/hub", {}, async (c) => assert.strictEqual(await c.invoke("Token"), "secret")); },
  async refuse() {
    const c = connect("/refuse/hub");
    await assert.rejects(c.start(), (e) => e.message.includes("refused by test"));
  },
  async v0() { await withConnection("/v0/hub", {}, async (c) => assert.strictEqual(await c.invoke("Add", 1, 1), 2)); },
  async reconnect() {
    const c = connect("/hub", { reconnect: [0, 100, 500] });
    await c.start();
    const before = c.connectionId;
    const reconnected = new Promise((resolve) => c.onreconnected(resolve));
    await c.invoke("Drop");
    const after = await reconnected;
    assert.notStrictEqual(after, before);
    assert.strictEqual(await c.invoke("Echo", "again"), "again");
    await c.stop();
  },
  async close() {
    const c = connect("/hub");
    await c.start();
    const closed = new Promise((resolve) => c.onclose(resolve));
    await c.invoke("CloseMe", false);
    const error = await closed;
    assert.ok(error && error.message.includes("closed by request"), String(error));
  },
  async slow() { await withConnection("/slow/hub", {}, async (c) => assert.strictEqual(await c.invoke("Echo", 1), 1)); },
  async sloppy() {
    await withConnection("/sloppy/hub", {}, async (c) => {
      await c.send("Record", 1);
      assert.strictEqual(await c.invoke("Echo", "x"), "x");
      assert.deepStrictEqual(await c.invoke("Recorded"), [1]);
    });
  },
  async garbage() {
    const c = connect("/hub");
    await c.start();
    const closed = new Promise((resolve) => c.onclose(resolve));
    await c.invoke("Garbage");
    const error = await closed;
    assert.ok(error, "closed without an error");
  },
  async results() {
    await withConnection("/hub", {}, async (c) => {
      c.on("double", (x) => x * 2);
      assert.strictEqual(await c.invoke("AskClient", "double", 21), 42);
      await assert.rejects(c.invoke("AskClient", "nobody"), (e) => e.message.includes("Client didn't provide a result."));
    });
  },
  async stateful() {
    const c = connect("/hub", { stateful: true });
    await c.start();
    const id = c.connectionId;
    assert.strictEqual(await c.invoke("Stateful"), true);
    const before = await c.invoke("Connections");
    // The answer is sent while no socket is attached; it arrives after the reconnect.
    assert.strictEqual(await c.invoke("DropThenEcho", "kept"), "kept");
    assert.strictEqual(c.connectionId, id);
    assert.strictEqual(await c.invoke("Connections"), before);
    await c.stop();
  },
  async upload() {
    await withConnection("/hub", {}, async (c) => {
      const subject = new signalR.Subject();
      const total = c.invoke("Sum", subject);
      subject.next(1);
      subject.next(2);
      subject.next(39);
      subject.complete();
      assert.strictEqual(await total, 42);
    });
  },
  async timeout() {
    // The hub pings every 100 ms (started with pingMs 100); keep-alive 100 ms, server timeout 600 ms.
    const c = connect("/hub");
    c.keepAliveIntervalInMilliseconds = 100;
    c.serverTimeoutInMilliseconds = 600;
    await c.start();
    const started = Date.now();
    // Poll slower than the keep-alive interval: each invocation counts as sending and defers the ping.
    while ((await c.invoke("Pings")) < 3) await new Promise((r) => setTimeout(r, 250));
    while (Date.now() - started < 800) await new Promise((r) => setTimeout(r, 50));
    assert.strictEqual(c.state, signalR.HubConnectionState.Connected);
    const closed = new Promise((resolve) => c.onclose(resolve));
    c.send("Mute");
    const error = await closed;
    assert.ok(error && /timeout/i.test(error.message), String(error));
  },
  async skip() {
    const b = new signalR.HubConnectionBuilder()
      .withUrl(opts.base + "/hub", { transport: signalR.HttpTransportType.WebSockets, skipNegotiation: true })
      .configureLogging(signalR.LogLevel.None);
    if (opts.protocol === "messagepack") b.withHubProtocol(new MessagePackHubProtocol());
    const c = b.build();
    await c.start();
    assert.strictEqual(await c.invoke("Echo", 7), 7);
    await c.stop();
  },
};

(async () => {
  let failed = 0;
  for (const name of opts.cases || Object.keys(cases)) {
    try {
      if (!cases[name]) throw new Error(`no case ${name}`);
      await Promise.race([cases[name](), new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 20000))]);
      process.stdout.write(JSON.stringify({ case: name, ok: true }) + "\n");
    } catch (e) {
      failed += 1;
      process.stdout.write(JSON.stringify({ case: name, ok: false, error: String(e && e.stack || e) }) + "\n");
    }
  }
  process.exit(failed ? 1 : 0);
})();
