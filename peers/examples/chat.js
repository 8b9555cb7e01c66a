#!/usr/bin/env node
// Drives examples/chat.rs with three socket.io-client 4 users and prints what each one sees.
//
//   node peers/examples/chat.js http://127.0.0.1:3000
"use strict";

const { Client, print, run } = require("./lib");

const url = process.argv[2] || "http://127.0.0.1:3000";
const alice = new Client("alice", url, { auth: { name: "alice" } });
const bob = new Client("bob", url, { auth: { name: "bob" } });
const carol = new Client("carol", url, { auth: { name: "carol" } });

run([alice, bob, carol], async () => {
  await Promise.all([alice.connected(), bob.connected(), carol.connected()]);
  print({ step: "connected" });

  print({ alice_joins_rust: await alice.emitWithAck("join", "rust") });

  // Bob joins: his ack lists both users, Alice is told.
  const [bobJoin, aliceSees] = await Promise.all([
    bob.emitWithAck("join", "rust"),
    alice.next("user joined"),
  ]);
  print({ bob_joins_rust: bobJoin, alice_sees: aliceSees });

  print({ carol_joins_js: await carol.emitWithAck("join", "js") });

  // A message to "rust" reaches Alice, not Bob (the sender) nor Carol (another room).
  const [receipt, aliceGets] = await Promise.all([
    bob.emitWithAck("message", "rust", "hello rustaceans"),
    alice.next("message"),
  ]);
  print({ bob_says: receipt, alice_gets: aliceGets });

  // Carol is not in "rust": refused.
  print({ carol_says: await carol.emitWithAck("message", "rust", "hi?") });

  // Alice leaves "rust": Bob is told, and the room is Bob's alone.
  alice.socket.emit("leave", "rust");
  print({ bob_sees: await bob.next("user left") });
  print({ users_in_rust: await alice.emitWithAck("users", "rust") });

  // Carol joins "rust", then Bob goes away: Carol gets the disconnect announcement.
  const [carolJoin, bobSees] = await Promise.all([
    carol.emitWithAck("join", "rust"),
    bob.next("user joined"),
  ]);
  print({ carol_joins_rust: carolJoin, bob_sees: bobSees });
  bob.socket.disconnect();
  print({ carol_sees: await carol.next("user left") });
  print({ users_in_rust: await carol.emitWithAck("users", "rust") });
});
