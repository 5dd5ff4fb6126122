// Shared by the chaos workers: the built package, a history recorder, and the server clock.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const tusker = require('../../../dist/index.js');
export const IORedis = require('ioredis');

export const env = process.env;
export const slot = env.SLOT;
const worker = `w${slot}`;
mkdirSync(env.HISTORY, { recursive: true });
const file = join(env.HISTORY, `${worker}-${process.pid}.jsonl`);

/** Append one entry to this process's history, synchronously (it survives kill -9). */
export function record(entry) {
  appendFileSync(file, `${JSON.stringify({ ...entry, w: worker, pid: process.pid })}\n`);
}

/** A seeded generator per process (seed + slot + pid), as test/chaos/support/random.ts. */
export function random() {
  let a = (Number(env.SEED) + Number(slot) * 7919 + process.pid) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let clockClient;
/** The Redis server's clock in µs (a TIME round trip on a connection of its own). */
export async function serverMicros() {
  clockClient ??= new IORedis(env.URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  const [s, us] = await clockClient.time();
  return Number(s) * 1e6 + Number(us);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Request/response with the parent over IPC. */
let nextId = 0;
const waiting = new Map();
process.on('message', (m) => {
  if (m && m.type === 'reply') {
    waiting.get(m.id)?.(m.value);
    waiting.delete(m.id);
  }
});
export function ask(message) {
  const id = ++nextId;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    process.send?.({ ...message, id });
  });
}

/** Resolves when the parent says stop. */
export const stopped = new Promise((resolve) => process.on('message', (m) => m && m.type === 'stop' && resolve()));
process.on('disconnect', () => process.exit(0));
