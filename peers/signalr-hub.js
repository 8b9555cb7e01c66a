#!/usr/bin/env node
// A test-support ASP.NET Core SignalR hub (no .NET server installs here), for crates/signalr's
// interop tests. The official @microsoft/signalr client (peers/signalr-official.js) is run
// against it in the same test run, on each case our client is run on, so a fixture mistake
// fails the official client too.
//
//   node peers/signalr-hub.js ['{"port":0,"pingMs":15000}']      prints {"port":N} once listening
//
// The hub pings every pingMs (default 15 s, as ASP.NET Core) on WebSockets and SSE.
//
// Paths: /hub (the hub); /v0/hub (negotiate version 0: no connectionToken); /auth/hub (needs
// "Authorization: Bearer secret", or access_token=secret in the query, else 401); /redirect/hub
// (negotiate answers a redirect to /auth/hub with the token "secret"); /refuse/hub (negotiate
// answers {"error":...}). Transports: WebSockets, ServerSentEvents, LongPolling (every path).
//
// Hub methods: Echo(x) -> x; Add(a, b) -> a + b; Void() -> no result; Fail(m) -> error m;
// Record(x) stores x (send it without reply), Recorded() -> what was stored on this connection;
// Header(name) -> that header of the negotiate (or WebSocket) request; Token() -> the token seen;
// Transport() -> the transport name; Tick(topic, n) invokes "tick"(topic, i) for i < n on the
// client, then returns n; Counter(n, ms) streams 0..n-1 one every ms; Cancelled() -> ids of
// streams the client cancelled; Drop() breaks the transport under the connection (no Close);
// CloseMe(allowReconnect) sends Close{error:"closed by request", allowReconnect}; Connections()
// -> how many connections completed a handshake since the server started; Pings() -> how many
// Pings this connection received; Mute() stops every message to this connection, pings included
// (the client's server timeout must then fire); Sum(stream) adds the items of a client-to-server
// stream and returns the total when the stream completes (an error if it completes with one).
//
// Stateful reconnect (negotiate with useStatefulReconnect=true, WebSockets): both sides number
// messages of types 1-5 from 1; the hub keeps what it sent until the client's Ack, Acks what it
// got (100 ms after the first unacknowledged one), keeps a dropped connection, and on a new
// WebSocket with the same id sends Sequence{first unacked} and resends; it ignores the client
// until the client's Sequence, and drops duplicates. DropThenEcho(x) breaks the WebSocket, then
// answers x while no socket is attached (the answer waits in the buffer). DropOthers() breaks the
// transport of every other connection (a network failure seen by other clients) and returns how
// many it broke. AskClient(target, ...args) invokes target on the client with an invocation id
// (a client result, ASP.NET Core 7+) and returns what the client answered, or its error.
// /sloppy/hub (JSON) is sloppy as some third-party servers are: it answers the handshake with
// {"type":0} and sends headers that are not a map ("headers":"x"); the official client accepts
// both. /idless/hub answers a non-blocking invocation with a Completion without invocation id
// (as @fakehost/signalr does), which the official client refuses and ours ignores. /slow/hub
// answers negotiate after 300 ms.
// Flood(n, size) invokes "tick"(i, <size x's>) on the client for i < n as fast as it can, then
// returns n (for bench/signalr). Garbage() answers, then sends a malformed frame (JSON that is not JSON; MessagePack whose
// length prefix runs past the frame).
"use strict";

const http = require("http");
const crypto = require("crypto");
const { WebSocketServer } = require("ws");
const msgpack = require("@msgpack/msgpack");

const opts = JSON.parse(process.argv[2] || "{}");
const RS = "\x1e";
const connections = new Map(); // token -> Connection
let handshakes = 0;
const cancelled = [];

function varint(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

class Connection {
  constructor(id, token, req, basePath) {
    this.id = id;
    this.token = token;
    this.headers = req.headers;
    this.accessToken = tokenOf(req);
    this.basePath = basePath;
    this.protocol = null; // "json" | "messagepack", after the handshake
    this.buffer = Buffer.alloc(0);
    this.transport = null;
    this.recorded = [];
    this.streams = new Map();
    // Long polling / SSE output
    this.queue = [];
    this.poll = null; // pending long-poll response
    this.sse = null;
    this.ws = null;
    this.polls = 0;
    this.closed = false;
    this.muted = false;
    this.pings = 0;
    this.pinger = null;
    this.uploads = new Map(); // stream id -> { invocationId, sum }
    this.asked = new Map(); // id of our invocation on the client -> the client's invocation id
    this.askCount = 0;
    // stateful reconnect
    this.stateful = false;
    this.detached = false;
    this.sendCount = 0;
    this.sent = []; // { id, frame } not yet acknowledged
    this.nextReceiving = 1;
    this.latestReceived = 0;
    this.waitForSequence = false;
    this.ackTimer = null;
  }

  // Raw bytes (or text) to the client, as one frame.
  write(frame) {
    if (this.closed) return;
    if (this.ws) {
      this.ws.send(frame, { binary: this.protocol === "messagepack" && typeof frame !== "string" });
    } else if (this.sse) {
      const text = typeof frame === "string" ? frame : frame.toString("utf8");
      this.sse.write(text.split("\n").map((l) => `data: ${l}`).join("\r\n") + "\r\n\r\n");
    } else {
      this.queue.push(typeof frame === "string" ? Buffer.from(frame) : frame);
      this.flush();
    }
  }

  flush() {
    if (this.poll && this.queue.length) {
      const res = this.poll;
      this.poll = null;
      clearTimeout(res.holdTimer);
      res.writeHead(200, { "Content-Type": "application/octet-stream" });
      res.end(Buffer.concat(this.queue));
      this.queue = [];
    }
  }

  frameOf(message) {
    if (this.protocol === "messagepack") {
      const body = Buffer.from(msgpack.encode(toMsgpack(message)));
      return Buffer.concat([varint(body.length), body]);
    }
    return JSON.stringify(message) + RS;
  }

  send(message) {
    if (this.muted) return;
    const frame = this.frameOf(message);
    if (this.stateful && message.type >= 1 && message.type <= 5) {
      this.sendCount += 1;
      this.sent.push({ id: this.sendCount, frame });
      if (this.detached) return;
    }
    this.write(frame);
  }

  // Stateful reconnect bookkeeping of a received message; false: ignore it.
  sequenced(m) {
    if (!this.stateful) return true;
    if (this.waitForSequence) {
      if (m.type !== 9) return false;
      this.waitForSequence = false;
    }
    if (m.type === 9) { this.nextReceiving = m.sequenceId; return false; }
    if (m.type === 8) { this.sent = this.sent.filter((e) => e.id > m.sequenceId); return false; }
    if (m.type < 1 || m.type > 5) return true;
    const id = this.nextReceiving++;
    if (id <= this.latestReceived) return false; // a resent duplicate
    this.latestReceived = id;
    if (!this.ackTimer) {
      this.ackTimer = setTimeout(() => {
        this.ackTimer = null;
        if (!this.detached) this.write(this.frameOf({ type: 8, sequenceId: this.latestReceived }));
      }, 100);
    }
    return true;
  }

  attach(ws) {
    const resuming = this.stateful && this.detached;
    this.ws = ws;
    this.detached = false;
    if (resuming) {
      this.waitForSequence = true;
      this.write(this.frameOf({ type: 9, sequenceId: this.sent.length ? this.sent[0].id : this.sendCount + 1 }));
      for (const e of this.sent) this.write(e.frame);
    }
  }

  receive(data) {
    this.buffer = Buffer.concat([this.buffer, Buffer.from(data)]);
    if (!this.protocol) {
      const end = this.buffer.indexOf(0x1e);
      if (end < 0) return;
      const hs = JSON.parse(this.buffer.subarray(0, end).toString("utf8"));
      this.buffer = this.buffer.subarray(end + 1);
      if (hs.protocol !== "json" && hs.protocol !== "messagepack") {
        this.write(JSON.stringify({ error: `Requested protocol '${hs.protocol}' is not available.` }) + RS);
        return;
      }
      this.protocol = hs.protocol;
      handshakes += 1;
      // Long polling keeps itself alive: no pings there (the transport may be known only later).
      this.pinger = setInterval(() => { if (this.transport !== "LongPolling") this.send({ type: 6 }); }, opts.pingMs || 15000);
      // The answer goes in the transport's format: a binary frame for MessagePack.
      const answer = JSON.stringify(this.basePath === "/sloppy" ? { type: 0 } : {}) + RS;
      this.write(this.protocol === "messagepack" ? Buffer.from(answer) : answer);
    }
    for (const message of this.decode()) this.dispatch(message);
  }

  decode() {
    const out = [];
    if (this.protocol === "json") {
      let end;
      while ((end = this.buffer.indexOf(0x1e)) >= 0) {
        out.push(JSON.parse(this.buffer.subarray(0, end).toString("utf8")));
        this.buffer = this.buffer.subarray(end + 1);
      }
    } else {
      for (;;) {
        let len = 0, shift = 0, i = 0;
        for (; i < this.buffer.length && i < 5; i++) {
          const b = this.buffer[i];
          len |= (b & 0x7f) << shift;
          shift += 7;
          if ((b & 0x80) === 0) break;
        }
        if (i >= this.buffer.length || this.buffer.length < i + 1 + len) break;
        out.push(fromMsgpack(msgpack.decode(this.buffer.subarray(i + 1, i + 1 + len))));
        this.buffer = this.buffer.subarray(i + 1 + len);
      }
    }
    return out;
  }

  complete(id, result, error) {
    if (id === undefined || id === null) {
      if (this.basePath === "/idless") this.send({ type: 3, result: null });
      return;
    }
    const m = { type: 3, invocationId: id };
    if (this.basePath === "/sloppy") m.headers = "x";
    if (error !== undefined) m.error = error;
    else if (result !== undefined) m.result = result;
    this.send(m);
  }

  dispatch(m) {
    if (!this.sequenced(m)) return;
    switch (m.type) {
      case 1: return this.invoke(m);
      case 4: return this.stream(m);
      case 5: {
        const timer = this.streams.get(m.invocationId);
        if (timer) { clearInterval(timer); this.streams.delete(m.invocationId); cancelled.push(m.invocationId); }
        return;
      }
      case 2: {
        const upload = this.uploads.get(m.invocationId);
        if (upload) upload.sum += m.item;
        return;
      }
      case 3: {
        if (this.asked.has(m.invocationId)) {
          const id = this.asked.get(m.invocationId);
          this.asked.delete(m.invocationId);
          return this.complete(id, m.error === undefined ? (m.result ?? null) : undefined, m.error);
        }
        const upload = this.uploads.get(m.invocationId);
        if (!upload) return;
        this.uploads.delete(m.invocationId);
        return this.complete(upload.invocationId, m.error === undefined ? upload.sum : undefined, m.error);
      }
      case 6: this.pings += 1; return;
      case 7: return this.terminate();
      default: return;
    }
  }

  invoke(m) {
    const a = m.arguments || [];
    const id = m.invocationId;
    switch (m.target) {
      case "Echo": return this.complete(id, a[0]);
      case "Add": return this.complete(id, a[0] + a[1]);
      case "Void": return this.complete(id);
      case "Fail": return this.complete(id, undefined, String(a[0]));
      case "Record": this.recorded.push(a[0]); return this.complete(id);
      case "Recorded": return this.complete(id, this.recorded);
      case "Header": return this.complete(id, this.headers[String(a[0]).toLowerCase()] ?? null);
      case "Token": return this.complete(id, this.accessToken);
      case "Transport": return this.complete(id, this.transport);
      case "Connections": return this.complete(id, handshakes);
      case "Cancelled": return this.complete(id, cancelled);
      case "Pings": return this.complete(id, this.pings);
      case "Stateful": return this.complete(id, this.stateful);
      case "Flood": {
        const pad = "x".repeat(a[1] || 0);
        for (let i = 0; i < a[0]; i++) this.send({ type: 1, target: "tick", arguments: [i, pad] });
        return this.complete(id, a[0]);
      }
      case "Garbage":
        this.complete(id);
        return this.write(this.protocol === "messagepack" ? Buffer.from([0x05, 0x91]) : "{\"type\":1,\"target\":}" + RS);
      case "AskClient": {
        const ask = `s${++this.askCount}`;
        this.asked.set(ask, id);
        return this.send({ type: 1, invocationId: ask, target: a[0], arguments: a.slice(1) });
      }
      case "DropOthers": {
        const others = [...connections.values()].filter((c) => c !== this && c.protocol);
        for (const c of others) c.drop();
        return this.complete(id, others.length);
      }
      case "DropThenEcho":
        this.ws.terminate();
        return setTimeout(() => this.complete(id, a[0]), 50);
      case "Sum":
        if (!m.streamIds || m.streamIds.length !== 1) return this.complete(id, undefined, "Sum needs one stream");
        this.uploads.set(m.streamIds[0], { invocationId: id, sum: 0 });
        return;
      case "Mute": this.muted = true; return;
      case "Tick":
        for (let i = 0; i < a[1]; i++) this.send({ type: 1, target: "tick", arguments: [a[0], i] });
        return this.complete(id, a[1]);
      case "Drop":
        this.complete(id);
        return setTimeout(() => this.drop(), 20);
      case "CloseMe":
        this.complete(id);
        this.send({ type: 7, error: "closed by request", allowReconnect: !!a[0] });
        return setTimeout(() => this.drop(), 20);
      default:
        return this.complete(id, undefined, `Unknown hub method '${m.target}'`);
    }
  }

  stream(m) {
    const [n, ms] = m.arguments || [];
    let i = 0;
    if (m.target !== "Counter") return this.complete(m.invocationId, undefined, `Unknown stream '${m.target}'`);
    const timer = setInterval(() => {
      if (i < n) { this.send({ type: 2, invocationId: m.invocationId, item: i++ }); return; }
      clearInterval(timer);
      this.streams.delete(m.invocationId);
      this.complete(m.invocationId);
    }, ms);
    this.streams.set(m.invocationId, timer);
  }

  // Breaks the transport without a Close message, as a network failure would.
  drop() {
    this.closed = true;
    clearInterval(this.pinger);
    for (const timer of this.streams.values()) clearInterval(timer);
    connections.delete(this.token);
    if (this.ws) this.ws.terminate();
    if (this.sse) this.sse.destroy();
    if (this.poll) { this.poll.writeHead(404); this.poll.end(); this.poll = null; }
  }

  terminate() {
    this.closed = true;
    clearInterval(this.pinger);
    for (const timer of this.streams.values()) clearInterval(timer);
    connections.delete(this.token);
    if (this.ws) this.ws.close();
    if (this.sse) this.sse.end();
    if (this.poll) { this.poll.writeHead(204); this.poll.end(); this.poll = null; }
  }
}

// MessagePack: the hub messages as arrays (HubProtocol.md).
function toMsgpack(m) {
  const h = {};
  switch (m.type) {
    case 1: return [1, h, m.invocationId ?? null, m.target, m.arguments, m.streamIds || []];
    case 2: return [2, h, m.invocationId, m.item];
    case 3:
      if (m.error !== undefined) return [3, h, m.invocationId, 1, m.error];
      if (m.result !== undefined) return [3, h, m.invocationId, 3, m.result];
      return [3, h, m.invocationId, 2];
    case 6: return [6];
    case 7: return [7, m.error ?? null, !!m.allowReconnect];
    case 8: return [8, m.sequenceId];
    case 9: return [9, m.sequenceId];
    default: throw new Error(`no msgpack form for ${m.type}`);
  }
}

function fromMsgpack(a) {
  switch (a[0]) {
    case 1: return { type: 1, invocationId: a[2] ?? undefined, target: a[3], arguments: a[4], streamIds: a[5] };
    case 2: return { type: 2, invocationId: a[2], item: a[3] };
    case 3: return { type: 3, invocationId: a[2], error: a[3] === 1 ? a[4] : undefined, result: a[3] === 3 ? a[4] : undefined };
    case 4: return { type: 4, invocationId: a[2], target: a[3], arguments: a[4], streamIds: a[5] };
    case 5: return { type: 5, invocationId: a[2] };
    case 6: return { type: 6 };
    case 7: return { type: 7, error: a[1] };
    case 8: return { type: 8, sequenceId: a[1] };
    case 9: return { type: 9, sequenceId: a[1] };
    default: return { type: a[0] };
  }
}

function tokenOf(req) {
  const auth = req.headers.authorization;
  if (auth && auth.startsWith("Bearer ")) return auth.slice(7);
  const url = new URL(req.url, "http://x");
  return url.searchParams.get("access_token");
}

// "/auth/hub/negotiate" -> { base: "/auth", hub: true, negotiate: true }
function route(req) {
  const url = new URL(req.url, "http://x");
  const m = url.pathname.match(/^(\/[a-z0-9]+)?\/hub(\/negotiate)?\/?$/);
  if (!m) return null;
  return { base: m[1] || "", negotiate: !!m[2], url };
}

function authorized(r, req) {
  return r.base !== "/auth" || tokenOf(req) === "secret";
}

const TRANSPORTS = [
  { transport: "WebSockets", transferFormats: ["Text", "Binary"] },
  { transport: "ServerSentEvents", transferFormats: ["Text"] },
  { transport: "LongPolling", transferFormats: ["Text", "Binary"] },
];

function negotiate(r, req, res) {
  if (r.base === "/slow" && !req.delayed) {
    req.delayed = true;
    return setTimeout(() => negotiate(r, req, res), 300);
  }
  const port = server.address().port;
  if (r.base === "/refuse") return json(res, 200, { error: "refused by test" });
  if (r.base === "/redirect") return json(res, 200, { url: `http://127.0.0.1:${port}/auth/hub`, accessToken: "secret" });
  if (!authorized(r, req)) { res.writeHead(401); return res.end(); }
  const version = r.base === "/v0" ? 0 : Math.min(1, Number(r.url.searchParams.get("negotiateVersion") || 0));
  const id = crypto.randomUUID();
  const token = version >= 1 ? crypto.randomUUID() : id;
  const conn = new Connection(id, token, req, r.base);
  conn.stateful = r.url.searchParams.get("useStatefulReconnect") === "true";
  connections.set(token, conn);
  const body = { connectionId: id, negotiateVersion: version, availableTransports: TRANSPORTS };
  if (version >= 1) body.connectionToken = token;
  if (conn.stateful) body.useStatefulReconnect = true;
  json(res, 200, body);
}

function json(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  const r = route(req);
  if (!r) { res.writeHead(404); return res.end(); }
  if (r.negotiate) {
    if (req.method !== "POST") { res.writeHead(405); return res.end(); }
    return negotiate(r, req, res);
  }
  if (!authorized(r, req)) { res.writeHead(401); return res.end(); }
  const conn = connections.get(r.url.searchParams.get("id"));
  if (!conn) { res.writeHead(404); return res.end(); }
  if (req.method === "POST") {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      res.writeHead(200); res.end();
      conn.receive(Buffer.concat(chunks));
    });
    return;
  }
  if (req.method === "DELETE") {
    conn.terminate();
    res.writeHead(202); return res.end();
  }
  if (req.method !== "GET") { res.writeHead(405); return res.end(); }
  if ((req.headers.accept || "").includes("text/event-stream")) {
    conn.transport = "ServerSentEvents";
    conn.sse = res;
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    res.write(":\r\n");
    req.on("close", () => { if (!conn.closed) conn.terminate(); });
    return;
  }
  // Long polling: the first poll is answered at once, later ones are held until data.
  conn.transport = "LongPolling";
  conn.polls += 1;
  if (conn.polls === 1) { res.writeHead(200); return res.end(); }
  conn.poll = res;
  res.holdTimer = setTimeout(() => {
    if (conn.poll === res) { conn.poll = null; res.writeHead(200); res.end(); }
  }, 5000);
  conn.flush();
});

const wss = new WebSocketServer({ noServer: true });
server.on("upgrade", (req, socket, head) => {
  const r = route(req);
  if (!r || r.negotiate || !authorized(r, req)) { socket.end("HTTP/1.1 404 Not Found\r\n\r\n"); return; }
  const token = r.url.searchParams.get("id");
  let conn = token && connections.get(token);
  if (!token) {
    // Skip negotiation: a connection without id.
    conn = new Connection(null, crypto.randomUUID(), req, r.base);
    connections.set(conn.token, conn);
  }
  if (!conn) { socket.end("HTTP/1.1 404 Not Found\r\n\r\n"); return; }
  if (token) conn.headers = Object.assign({}, conn.headers, req.headers);
  if (conn.ws && !conn.detached) { socket.end("HTTP/1.1 409 Conflict\r\n\r\n"); return; }
  wss.handleUpgrade(req, socket, head, (ws) => {
    conn.transport = "WebSockets";
    conn.attach(ws);
    ws.on("message", (data) => { if (conn.ws === ws) conn.receive(data); });
    ws.on("close", () => {
      if (conn.ws !== ws) return;
      if (conn.stateful && !conn.closed) {
        // Kept for a stateful reconnect: the buffer waits for the next socket.
        conn.detached = true;
        conn.waitForSequence = true;
        return;
      }
      conn.closed = true;
      clearInterval(conn.pinger);
      connections.delete(conn.token);
    });
  });
});

server.listen(opts.port || 0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});
