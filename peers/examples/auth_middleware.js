#!/usr/bin/env node
// Drives examples/auth_middleware.rs: refused and accepted handshakes on "/" and "/admin".
//
//   node peers/examples/auth_middleware.js http://127.0.0.1:3000
"use strict";

const { Client, print, run } = require("./lib");

const url = process.argv[2] || "http://127.0.0.1:3000";
const clients = [];
const client = (name, path, auth) => {
  const c = new Client(name, url + path, auth ? { auth } : {});
  clients.push(c);
  return c;
};

// What a refused client sees in its connect_error handler.
async function refusal(c) {
  const { event, args } = await c.nextOf(["connect", "connect_error"]);
  return event === "connect" ? "connected!" : args[0];
}

run(clients, async () => {
  print({ no_token: await refusal(client("anonymous", "/")) });
  print({ bad_token: await refusal(client("mallory", "/", { token: "nope" })) });

  const bob = client("bob", "/", { token: "bob-token" });
  await bob.connected();
  print({ bob_welcome: await bob.next("welcome") });
  print({ bob_whoami: await bob.emitWithAck("whoami") });

  print({ bob_admin: await refusal(client("bob-admin", "/admin", { token: "bob-token" })) });
  print({ no_token_admin: await refusal(client("anonymous-admin", "/admin")) });

  const alice = client("alice-admin", "/admin", { token: "alice-token" });
  await alice.connected();
  print({ alice_admin_online: await alice.emitWithAck("online") });
});
