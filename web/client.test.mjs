// Unit tests of the browser client's logic with a fake socket and a fake
// clock: node --test web/   (Node 20+, no dependency).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, backoffDelay, createDeduper } from './notifyd-client.js';
import { relativeTime, badgeText, secondsLeft, isTaskNotification } from './format.js';

// fakeClock runs timers when advance() passes their due time, in order.
function fakeClock() {
  let now = 1_000_000;
  let seq = 0;
  const timers = new Map();
  const add = (fn, ms, every) => {
    const id = ++seq;
    timers.set(id, { at: now + Math.max(0, ms), fn, every });
    return id;
  };
  return {
    now: () => now,
    setTimeout: (fn, ms) => add(fn, ms, 0),
    setInterval: (fn, ms) => add(fn, ms, ms),
    clearTimeout: (id) => timers.delete(id),
    clearInterval: (id) => timers.delete(id),
    pending: () => timers.size,
    advance(ms) {
      const end = now + ms;
      for (;;) {
        let next = null;
        for (const [id, t] of timers) if (t.at <= end && (!next || t.at < next[1].at)) next = [id, t];
        if (!next) break;
        const [id, t] = next;
        now = t.at;
        if (t.every) t.at += t.every;
        else timers.delete(id);
        t.fn();
      }
      now = end;
    },
  };
}

// fakeEnv returns a connect() env whose sockets are recorded in `sockets`.
function fakeEnv({ online = true } = {}) {
  const clock = fakeClock();
  const sockets = [];
  const listeners = new Map();
  class FakeSocket {
    constructor(url) {
      this.url = url;
      this.sent = [];
      this.closedWith = null;
      sockets.push(this);
    }
    send(data) { this.sent.push(JSON.parse(data)); }
    close(code) { this.closedWith = code; }
    // server side:
    open() { this.onopen?.({}); }
    msg(obj) { this.onmessage?.({ data: JSON.stringify(obj) }); }
    end(code) { this.onclose?.({ code }); }
  }
  const env = {
    ...clock,
    WebSocket: FakeSocket,
    random: () => 0.5,
    isOnline: () => online,
    addEventListener: (t, fn) => listeners.set(t, fn),
    removeEventListener: (t) => listeners.delete(t),
  };
  return {
    env, clock, sockets,
    setOnline(v) { online = v; listeners.get(v ? 'online' : 'offline')?.(); },
    last: () => sockets[sockets.length - 1],
  };
}

function record(client) {
  const got = [];
  for (const t of ['notification', 'updated', 'deleted', 'read_all', 'event', 'status', 'resync', 'hello', 'unread_count']) {
    client.on(t, (p) => got.push([t, p]));
  }
  return got;
}

const note = (id) => ({ type: 'notification', notification: { id, title: `n${id}`, read: false }, unread_count: id });
const ids = (got) => got.filter(([t]) => t === 'notification').map(([, m]) => m.notification.id);
const states = (got) => got.filter(([t]) => t === 'status').map(([, s]) => s.state);

test('backoffDelay uses full jitter under a capped exponential ceiling', () => {
  const cases = [
    { attempt: 0, random: 0.999, max: 1000 },
    { attempt: 1, random: 0.999, max: 2000 },
    { attempt: 4, random: 0.999, max: 16000 },
    { attempt: 5, random: 0.999, max: 30000 },
    { attempt: 50, random: 0.999, max: 30000 },
  ];
  for (const c of cases) {
    const d = backoffDelay(c.attempt, { random: () => c.random });
    assert.ok(d < c.max && d >= c.max * 0.99, `attempt ${c.attempt}: ${d}`);
    assert.equal(backoffDelay(c.attempt, { random: () => 0 }), 0);
  }
});

test('createDeduper accepts each id once, also after forgetting', () => {
  const d = createDeduper(3, 10);
  assert.equal(d.accept(10), false, 'at the floor');
  assert.equal(d.accept(11), true);
  assert.equal(d.accept(11), false);
  for (const id of [12, 13, 14, 15]) assert.equal(d.accept(id), true);
  assert.equal(d.accept(11), false, 'forgotten but below the floor');
  assert.equal(d.max(), 15);
});

test('first connect authenticates without after_id, then resumes from the highest id', () => {
  const f = fakeEnv();
  const c = connect({ wsUrl: 'ws://x/ws', env: f.env });
  const got = record(c);
  f.clock.advance(0);
  f.last().open();
  assert.deepEqual(f.last().sent, [{ type: 'auth' }]);
  f.last().msg({ type: 'hello', user: { id: 1 }, unread_count: 0 });
  f.last().msg(note(5));
  f.last().msg(note(6));
  f.last().msg(note(6));
  f.last().end(1006);
  assert.deepEqual(states(got), ['connecting', 'connected', 'reconnecting']);
  const retry = got.filter(([t]) => t === 'status').at(-1)[1];
  assert.deepEqual(retry, { state: 'reconnecting', retryInMs: 500, attempt: 1, code: 1006 });

  f.clock.advance(500);
  assert.equal(f.sockets.length, 2);
  f.last().open();
  assert.deepEqual(f.last().sent, [{ type: 'auth', after_id: 6 }]);
  f.last().msg({ type: 'hello', user: { id: 1 }, unread_count: 2 });
  f.last().msg(note(6));
  f.last().msg(note(7));
  assert.deepEqual(ids(got), [5, 6, 7], 'no id twice');
  assert.deepEqual(got.filter(([t]) => t === 'resync').map(([, p]) => p), [{ reason: 'reconnect' }]);
  assert.equal(c.lastId, 7);
  c.close();
  assert.equal(f.clock.pending(), 0, 'close stops every timer');
});

test('afterId and secret go into the first auth; older ids are dropped', () => {
  const f = fakeEnv();
  const c = connect({ wsUrl: 'ws://x/ws', secret: 's3', afterId: 0, env: f.env });
  const got = record(c);
  f.clock.advance(0);
  f.last().open();
  assert.deepEqual(f.last().sent, [{ type: 'auth', secret: 's3', after_id: 0 }]);
  const c2 = connect({ wsUrl: 'ws://x/ws', afterId: 9, env: f.env });
  const got2 = record(c2);
  f.clock.advance(0);
  f.last().open();
  f.last().msg({ type: 'hello', unread_count: 0 });
  f.last().msg(note(9));
  f.last().msg(note(10));
  assert.deepEqual(ids(got2), [10]);
  assert.deepEqual(ids(got), []);
  c.close();
  c2.close();
});

test('close codes decide whether to retry', async (t) => {
  const cases = [
    { code: 4401, retry: false, state: 'unauthorized' },
    { code: 4429, retry: true, state: 'reconnecting' },
    { code: 1001, retry: true, state: 'reconnecting' },
    { code: 4008, retry: true, state: 'reconnecting' },
    { code: 1006, retry: true, state: 'reconnecting' },
  ];
  for (const tc of cases) {
    await t.test(String(tc.code), () => {
      const f = fakeEnv();
      const c = connect({ wsUrl: 'ws://x/ws', env: f.env });
      const got = record(c);
      f.clock.advance(0);
      f.last().open();
      f.last().msg({ type: 'hello', unread_count: 0 });
      f.last().end(tc.code);
      assert.equal(states(got).at(-1), tc.state);
      f.clock.advance(60_000);
      assert.equal(f.sockets.length, tc.retry ? 2 : 1);
      c.close();
    });
  }
});

test('pings every 20 s and drops a socket silent for 30 s', () => {
  const f = fakeEnv();
  const c = connect({ wsUrl: 'ws://x/ws', env: f.env });
  const got = record(c);
  f.clock.advance(0);
  const s = f.last();
  s.open();
  s.msg({ type: 'hello', unread_count: 0 });
  f.clock.advance(20_000);
  assert.deepEqual(s.sent.at(-1), { type: 'ping' });
  s.msg({ type: 'pong' });
  f.clock.advance(29_000);
  assert.equal(s.closedWith, null, 'a pong 29 s ago keeps it alive');
  f.clock.advance(1_000);
  assert.notEqual(s.closedWith, null);
  assert.equal(states(got).at(-1), 'reconnecting');
  c.close();
});

test('backoff grows while failing and resets after a stable minute', () => {
  const f = fakeEnv();
  const c = connect({ wsUrl: 'ws://x/ws', env: f.env });
  const got = record(c);
  f.clock.advance(0);
  const attempts = () => got.filter(([t, s]) => t === 'status' && s.state === 'reconnecting').map(([, s]) => s.retryInMs);
  for (let i = 0; i < 3; i++) {
    f.last().end(1006);
    f.clock.advance(30_000);
  }
  assert.deepEqual(attempts(), [500, 1000, 2000]);
  f.last().open();
  f.last().msg({ type: 'hello', unread_count: 0 });
  for (let i = 0; i < 3; i++) {
    f.clock.advance(20_000);
    f.last().msg({ type: 'pong' });
  }
  f.last().end(1001);
  assert.equal(attempts().at(-1), 500, 'reset after 60 s connected');
  c.close();
});

test('a server resync is emitted and the next resume omits after_id', () => {
  const f = fakeEnv();
  const c = connect({ wsUrl: 'ws://x/ws', afterId: 3, env: f.env });
  const got = record(c);
  f.clock.advance(0);
  f.last().open();
  f.last().msg({ type: 'hello', unread_count: 0 });
  f.last().msg({ type: 'resync' });
  assert.deepEqual(got.filter(([t]) => t === 'resync').map(([, p]) => p), [{ reason: 'server' }]);
  f.last().end(1006);
  f.clock.advance(30_000);
  f.last().open();
  assert.deepEqual(f.last().sent, [{ type: 'auth' }]);
  c.close();
});

test('a browser that says offline still connects (loopback only)', () => {
  const f = fakeEnv({ online: false });
  const c = connect({ wsUrl: 'ws://localhost:8001/ws', env: f.env });
  const got = record(c);
  f.clock.advance(0);
  assert.equal(f.sockets.length, 1, 'tried although navigator.onLine is false');
  assert.equal(states(got).at(-1), 'offline');
  f.last().open();
  f.last().msg({ type: 'hello', unread_count: 0 });
  assert.equal(states(got).at(-1), 'connected');
  c.close();
});

test('offline shows, keeps a live socket, and keeps retrying', () => {
  const f = fakeEnv();
  const c = connect({ wsUrl: 'ws://x/ws', env: f.env });
  const got = record(c);
  f.clock.advance(0);
  f.last().open();
  f.last().msg({ type: 'hello', unread_count: 0 });
  f.setOnline(false);
  assert.equal(f.last().closedWith, null, 'a live socket is not closed by the offline event');
  assert.equal(states(got).at(-1), 'connected');
  f.last().end(1006);
  assert.equal(states(got).at(-1), 'offline');
  for (let i = 0; i < 3; i++) {
    f.clock.advance(60_000);
    f.last().end(1006); // nothing answers: the network is really down
    assert.equal(states(got).at(-1), 'offline');
  }
  assert.equal(f.sockets.length, 4, 'retries go on while offline');
  const before = f.sockets.length;
  f.setOnline(true);
  assert.equal(f.sockets.length, before + 1, 'online retries at once');
  assert.equal(states(got).at(-1), 'connecting');
  c.close();
});

test('unread_count is emitted from every message that carries one', () => {
  const f = fakeEnv();
  const c = connect({ wsUrl: 'ws://x/ws', env: f.env });
  const got = record(c);
  f.clock.advance(0);
  f.last().open();
  f.last().msg({ type: 'hello', unread_count: 4 });
  f.last().msg({ type: 'notification_updated', notification: { id: 1 }, unread_count: 3 });
  f.last().msg({ type: 'notification_deleted', id: 2, unread_count: 2 });
  f.last().msg({ type: 'notifications_read', up_to_id: null, unread_count: 0 });
  f.last().msg({ type: 'unread_count', unread_count: 7 });
  f.last().msg({ type: 'event', event: { type: 'task_progress', data: { progress: 0.5 } } });
  assert.deepEqual(got.filter(([t]) => t === 'unread_count').map(([, n]) => n), [4, 3, 2, 0, 7]);
  assert.deepEqual(got.filter(([t]) => t === 'event').map(([, e]) => e.type), ['task_progress']);
  assert.throws(() => c.on('nope', () => {}), TypeError);
  c.close();
});

test('format helpers', () => {
  const now = Date.parse('2025-01-10T12:00:00Z');
  const cases = [
    ['2025-01-10T12:00:10Z', 'just now'],
    ['2025-01-10T11:59:30Z', 'just now'],
    ['2025-01-10T11:58:00Z', '2 min ago'],
    ['2025-01-10T09:00:00Z', '3 h ago'],
    ['2025-01-09T11:00:00Z', 'yesterday'],
    ['2025-01-06T12:00:00Z', '4 days ago'],
  ];
  for (const [when, want] of cases) assert.equal(relativeTime(when, now), want, when);
  assert.deepEqual([0, 1, 99, 100, 5000].map(badgeText), ['', '1', '99', '99+', '99+']);
  assert.equal(secondsLeft(1), 1);
  assert.equal(secondsLeft(-5), 0);
  assert.equal(isTaskNotification({ title: 'Task finished', content: '"Export" finished after 5s.' }, 'Export'), true);
  assert.equal(isTaskNotification({ title: 'Task finished', content: '"Exports" finished after 5s.' }, 'Export'), false);
});

test('nothing is emitted after close(), even from inside a handler', () => {
  const f = fakeEnv();
  const c = connect({ wsUrl: 'ws://x/ws', env: f.env });
  const got = record(c);
  c.on('hello', () => c.close());
  f.clock.advance(0);
  f.last().open();
  f.last().msg({ type: 'hello', unread_count: 1 });
  f.last().msg(note(1));
  assert.deepEqual(got.map(([t]) => t).filter((t) => t !== 'status'), ['hello']);
  assert.equal(f.last().closedWith, 1000);
  assert.equal(f.clock.pending(), 0);
});
