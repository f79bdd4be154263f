'use strict';
// handoff.c's round trip timed from Node's event loop: the byte goes out through koffi, the
// answer comes back on a socket that libuv watches (a net.Socket with `onread`, as the
// binding's completion queue does). Usage: node handoff.js /tmp/libhandoff.so [20000]
const net = require('node:net');
const koffi = require('koffi');

const lib = koffi.load(process.argv[2]);
const start = lib.func('int handoff_start(int32_t *fds)');
const kick = lib.func('int handoff_kick(int fd)');
const n = parseInt(process.argv[3] || '20000', 10);
const fds = new Int32Array(2);
if (start(fds) !== 0) throw new Error('handoff_start failed');
const lat = [];
let t0 = 0n;
const socket = new net.Socket({
  fd: fds[1], readable: true, writable: false, onread: { buffer: Buffer.alloc(64), callback: answered },
});

function answered() {
  lat.push(Number(process.hrtime.bigint() - t0) / 1e3);
  if (lat.length < n) return send();
  lat.sort((a, b) => a - b);
  const at = p => lat[Math.floor(p * (n - 1))].toFixed(1);
  console.log(`Node event loop: round trip p10 ${at(0.1)} µs, p50 ${at(0.5)} µs, p90 ${at(0.9)} µs`);
  socket.destroy();
  process.exit(0);
}

function send() {
  t0 = process.hrtime.bigint();
  kick(fds[0]);
}

send();
