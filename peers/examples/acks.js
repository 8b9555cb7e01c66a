#!/usr/bin/env node
// Drives examples/acks.rs: client→server acks, server→client acks with a timeout, and a
// broadcast with acks where one client stays silent.
//
//   node peers/examples/acks.js http://127.0.0.1:3000
"use strict";

const { Client, print, run } = require("./lib");

const url = process.argv[2] || "http://127.0.0.1:3000";
const alice = new Client("alice", url);
const bob = new Client("bob", url);
const carol = new Client("carol", url); // silent, until the last poll

// Alice answers questions; Alice and Bob vote. Carol ignores everything at first.
alice.socket.on("question", (question, ack) => ack(42));
alice.socket.on("vote", (question, ack) => ack("rust"));
bob.socket.on("vote", (question, ack) => ack("js"));

run([alice, bob, carol], async () => {
  await Promise.all([alice.connected(), bob.connected(), carol.connected()]);

  print({ add: await alice.emitWithAck("add", 2, 3) });
  print({ add_bad: await alice.emitWithAck("add", "two") });

  alice.socket.emit("quiz");
  print({ alice_asked: await alice.next("question") });
  print({ alice_result: await alice.next("quiz result") });

  const asked = Date.now();
  carol.socket.emit("quiz");
  print({ carol_asked: await carol.next("question") });
  const carolResult = await carol.next("quiz result");
  // The server's limit is 500 ms (490: Date.now() counts whole milliseconds).
  print({ carol_result: carolResult, waited_for_the_limit: Date.now() - asked >= 490 });

  // Everyone gets the vote (Bob too, who asked); Carol's silence shows in the tally.
  const [poll] = await Promise.all([
    bob.emitWithAck("poll", "Rust or JS?"),
    alice.next("vote"),
    bob.next("vote"),
    carol.next("vote"),
  ]);
  print({ poll });

  // Once Carol votes too, every client answers and the tally comes without waiting for the
  // limit.
  carol.socket.on("vote", (question, ack) => ack("rust"));
  const started = Date.now();
  const [poll2] = await Promise.all([
    bob.emitWithAck("poll", "Still Rust?"),
    alice.next("vote"),
    bob.next("vote"),
    carol.next("vote"),
  ]);
  print({ poll_everyone: poll2, before_the_limit: Date.now() - started < 450 });
});
