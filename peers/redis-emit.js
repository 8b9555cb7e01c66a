#!/usr/bin/env node
// Runs @socket.io/redis-emitter 5 (on ioredis) against a Redis, for the emitter interop tests of
// crates/redis-adapter: each step is one emitter call, in order, then the script exits.
//
//   node peers/redis-emit.js <redis-url> <key> '<steps as JSON>'
//
// A step: {"nsp"?, "to"?: [rooms], "except"?: [rooms], "op": "emit"|"socketsJoin"|"socketsLeave"|
// "disconnectSockets"|"serverSideEmit", "event"?, "args"?: [...], "rooms"?, "close"?}.
// Binary arguments travel as {"$bin":[bytes...]}. Prints "done" when every step was published.
"use strict";

const Redis = require("ioredis");
const { Emitter } = require("@socket.io/redis-emitter");

const [url, key, stepsJson] = process.argv.slice(2);
const steps = JSON.parse(stepsJson);

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

const redis = new Redis(url);
const root = new Emitter(redis, { key });
for (const step of steps) {
  let target = step.nsp ? root.of(step.nsp) : root;
  for (const room of step.to || []) target = target.to(room);
  for (const room of step.except || []) target = target.except(room);
  const args = decode(step.args || []);
  switch (step.op) {
    case "emit":
      target.emit(step.event, ...args);
      break;
    case "socketsJoin":
      target.socketsJoin(step.rooms);
      break;
    case "socketsLeave":
      target.socketsLeave(step.rooms);
      break;
    case "disconnectSockets":
      target.disconnectSockets(Boolean(step.close));
      break;
    case "serverSideEmit":
      target.serverSideEmit(step.event, ...args);
      break;
    default:
      throw new Error(`unknown op ${step.op}`);
  }
}
// ioredis sends commands in order: once this answers, every publish above was sent.
redis.ping().then(() => {
  process.stdout.write("done\n");
  redis.disconnect();
});
