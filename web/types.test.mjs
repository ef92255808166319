// The types in notifyd-client.d.ts against the module they describe:
// node --test web/   (no dependency). tsc (web/typecheck, .ci/run) checks
// that the types are coherent and usable; this checks that they name what
// the JavaScript has, so an export, tunable, option, event, status state or
// client member added on one side and not the other fails here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as mod from './notifyd-client.js';

const dts = readFileSync(new URL('./notifyd-client.d.ts', import.meta.url), 'utf8');
const js = readFileSync(new URL('./notifyd-client.js', import.meta.url), 'utf8');

// body returns the text between `head {` and the first line that is a
// lone `}` or `};` after it (the declarations are formatted that way).
function body(src, head) {
  const start = src.indexOf(`${head} {\n`);
  assert.ok(start >= 0, `${head} not found`);
  const from = start + head.length + 3;
  return src.slice(from, src.indexOf('\n}', from));
}

// members returns the member names declared in a body: `name:`, `name?:`,
// `readonly name:`, `name(` and `name<`, ignoring comments.
function members(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  return [...code.matchAll(/^\s*(?:readonly\s+)?(\w+)\??\s*[:(<]/gm)].map((m) => m[1]).sort();
}

const sorted = (xs) => [...new Set(xs)].sort();

// fakeEnv is the least connect() needs to return a client without a browser.
const fakeEnv = {
  WebSocket: class { send() {} close() {} },
  setTimeout: () => 0, clearTimeout: () => {}, setInterval: () => 0, clearInterval: () => {},
  now: () => 0, random: () => 0, isOnline: () => true,
  addEventListener: () => {}, removeEventListener: () => {},
};

test('every export of the module is declared, and nothing else', () => {
  const declared = [...dts.matchAll(/^export declare (?:const|function) (\w+)/gm)].map((m) => m[1]);
  assert.deepEqual(sorted(declared), sorted(Object.keys(mod)));
});

test('Tunables has exactly the keys of defaults', () => {
  assert.deepEqual(members(body(dts, 'export interface Tunables')), sorted(Object.keys(mod.defaults)));
});

test('closeCodes and tokenExpiredReason have the declared literal values', () => {
  const codes = Object.fromEntries(
    [...body(dts, 'export declare const closeCodes:').matchAll(/readonly (\w+): (\d+);/g)].map((m) => [m[1], Number(m[2])]),
  );
  assert.deepEqual(codes, { ...mod.closeCodes });
  assert.match(dts, new RegExp(`export declare const tokenExpiredReason: '${mod.tokenExpiredReason}';`));
});

test('ConnectOptions has exactly the options connect reads', () => {
  const params = js.match(/^export function connect\(\{(.*)\} = \{\}\) \{$/m)[1].split(',').map((p) => p.split('=')[0].trim());
  assert.deepEqual(members(body(dts, 'export interface ConnectOptions')), sorted(params));
});

test('ClientEnv has exactly the env members connect reads', () => {
  const read = [...js.matchAll(/\benv\.(\w+) \?\?/g)].map((m) => m[1]);
  assert.deepEqual(members(body(dts, 'export interface ClientEnv')), sorted(read));
});

test('ClientEvents has exactly the event names client.on accepts', () => {
  const names = js.match(/const eventTypes = new Set\(\[([^\]]*)\]\)/)[1].match(/'(\w+)'/g).map((s) => s.slice(1, -1));
  const declared = members(body(dts, 'export interface ClientEvents'));
  assert.deepEqual(declared, sorted(names));
  const client = mod.connect({ wsUrl: 'ws://x/ws', env: fakeEnv });
  for (const name of declared) assert.doesNotThrow(() => client.on(name, () => {}), name);
  assert.throws(() => client.on('notification_updated', () => {}), TypeError);
  client.close();
});

test('ConnectionState has exactly the states the client sets', () => {
  const set = [...js.matchAll(/state: (?:e\.isOnline\(\) \? )?'(\w+)'(?: : '(\w+)')?/g)].flatMap((m) => m.slice(1).filter(Boolean));
  const declared = dts.match(/export type ConnectionState = ([^;]*);/)[1].match(/'(\w+)'/g).map((s) => s.slice(1, -1));
  assert.deepEqual(sorted(declared), sorted(set));
});

test('Client has exactly the members connect returns', () => {
  const client = mod.connect({ wsUrl: 'ws://x/ws', env: fakeEnv });
  assert.deepEqual(members(body(dts, 'export interface Client')), sorted(Object.keys(client)));
  assert.equal(typeof client.on('status', () => {}), 'function');
  assert.equal(client.on('status', () => {})(), true, 'the unsubscribe function returns true when it removed the handler');
  client.close();
});
