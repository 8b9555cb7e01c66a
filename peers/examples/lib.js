// Shared by the scripts in this folder: clients that record what they receive, so that a
// script can wait for events step by step and print a transcript in a fixed order.
//
// Every script prints one JSON line per observation on stdout, then `{"done":true}`, and
// exits 0; on a timeout or an error it prints `{"fail":…}` and exits 1. Events nobody waited
// for are printed at the end as `{"unexpected":…}`, so a test comparing transcripts sees them.
"use strict";

const { io } = require("socket.io-client");

const TIMEOUT_MS = Number(process.env.EXAMPLE_TIMEOUT_MS || 5000);

function print(line) {
  process.stdout.write(JSON.stringify(line) + "\n");
}

function fail(reason) {
  print({ fail: String(reason && reason.stack ? reason.stack : reason) });
  process.exit(1);
}

// The reserved events a client sees, which `onAny` does not report.
const RESERVED = ["connect", "connect_error", "disconnect"];

class Client {
  constructor(name, url, options = {}) {
    this.name = name;
    this.received = [];
    this.waiters = [];
    this.socket = io(url, { forceNew: true, reconnection: false, ...options });
    // An event the server wants acknowledged ends with the ack callback: not part of the record.
    this.socket.onAny((event, ...args) =>
      this.record(event, args.filter((arg) => typeof arg !== "function")),
    );
    this.socket.on("connect", () => this.record("connect", []));
    this.socket.on("connect_error", (err) =>
      this.record("connect_error", [{ message: err.message, data: err.data }]),
    );
    this.socket.on("disconnect", (reason) => this.record("disconnect", [reason]));
  }

  record(event, args) {
    const waiter = this.waiters.findIndex((w) => w.events.includes(event));
    if (waiter >= 0) {
      const [w] = this.waiters.splice(waiter, 1);
      clearTimeout(w.timer);
      w.resolve({ event, args });
    } else {
      this.received.push({ event, args });
    }
  }

  // The next of `events` this client receives (or already received): `{ event, args }`.
  nextOf(events, ms = TIMEOUT_MS) {
    const index = this.received.findIndex((r) => events.includes(r.event));
    if (index >= 0) {
      return Promise.resolve(this.received.splice(index, 1)[0]);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: no ${events.join("/")} within ${ms} ms`)),
        ms,
      );
      this.waiters.push({ events, resolve, timer });
    });
  }

  // The arguments of the next `event`.
  async next(event, ms = TIMEOUT_MS) {
    return (await this.nextOf([event], ms)).args;
  }

  // Resolves once connected; throws with the connect_error otherwise.
  async connected() {
    const { event, args } = await this.nextOf(["connect", "connect_error"]);
    if (event !== "connect") {
      throw new Error(`${this.name} could not connect: ${JSON.stringify(args)}`);
    }
  }

  emitWithAck(event, ...args) {
    return this.socket.timeout(TIMEOUT_MS).emitWithAck(event, ...args);
  }
}

// Runs `steps`, then reports what nobody waited for, closes the clients and exits.
async function run(clients, steps) {
  const deadline = setTimeout(() => fail("script timed out"), 4 * TIMEOUT_MS);
  try {
    await steps();
    // Give stray events a moment to show up.
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const client of clients) {
      for (const { event, args } of client.received) {
        if (!RESERVED.includes(event)) print({ unexpected: event, to: client.name, args });
      }
      client.socket.disconnect();
    }
    clearTimeout(deadline);
    print({ done: true });
    process.exit(0);
  } catch (err) {
    fail(err);
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

module.exports = { Client, print, fail, run, sleep, TIMEOUT_MS };
