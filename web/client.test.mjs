// Unit tests of the browser client's logic with a fake socket and a fake
// clock: node --test web/   (Node 20+, no dependency).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, backoffDelay, createDeduper, jwtClaims, refreshDelay } from './notifyd-client.js';
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

// started connects with options to a fake environment and lets the first
// dial happen: the setup of most tests.
function started(options = {}) {
  const f = fakeEnv();
  const c = connect({ wsUrl: 'ws://x/ws', env: f.env, ...options });
  const got = record(c);
  f.clock.advance(0);
  return { f, c, got };
}

// live is started with the socket open and its hello received.
function live(unreadCount, options) {
  const r = started(options);
  r.f.last().open();
  r.f.last().msg({ type: 'hello', unread_count: unreadCount });
  return r;
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
  const { f, c, got } = started();
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
  const { f, c, got } = started({ secret: 's3', afterId: 0 });
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
      const { f, c, got } = live(0);
      f.last().end(tc.code);
      assert.equal(states(got).at(-1), tc.state);
      f.clock.advance(60_000);
      assert.equal(f.sockets.length, tc.retry ? 2 : 1);
      c.close();
    });
  }
});

test('pings every 20 s and drops a socket silent for 30 s', () => {
  const { f, c, got } = started();
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
  const { f, c, got } = started();
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
  const { f, c, got } = live(0, { afterId: 3 });
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
  const { f, c, got } = live(0);
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
  const { f, c, got } = live(4);
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

// Tokens: the client reads exp and iat only, so the signature is a dummy.
const jwt = (claims) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
// flush lets pending promises (getToken) settle.
const flush = () => new Promise((resolve) => setImmediate(resolve));

// tokens returns a getToken that hands out fresh tokens living ttlS
// seconds on the fake clock, and the list of tokens handed out.
function tokens(clock, ttlS, { sub = 'ext-1' } = {}) {
  const issued = [];
  const getToken = async () => {
    const iat = Math.floor(clock.now() / 1000);
    const t = jwt({ sub, iat, exp: iat + ttlS, n: issued.length + 1 });
    issued.push(t);
    return t;
  };
  return { getToken, issued };
}

test('jwtClaims reads a base64url payload and refuses what is not a JWT', () => {
  const claims = { sub: 'auth0|5f7c', name: 'Zoë ✓', exp: 2000, pad: '??>>' };
  assert.deepEqual(jwtClaims(jwt(claims)), claims);
  for (const bad of ['', 'abc', 'a.b', 'a.!!!.c', `a.${Buffer.from('[1]').toString('base64url')}.c`, `a.${Buffer.from('nope').toString('base64url')}.c`]) {
    assert.equal(jwtClaims(bad), null, bad);
  }
});

test('refreshDelay is 80 % of the lifetime, with a floor and a ceiling', () => {
  const now = 1_000_000;
  const cases = [
    { name: 'exp - iat', claims: { iat: 1000, exp: 1100 }, at: now, want: 80_000 },
    { name: 'iat from a skewed clock', claims: { iat: 5000, exp: 5100 }, at: now, want: 80_000 },
    { name: 'no iat: exp - obtained', claims: { exp: 1100 }, at: now, want: 80_000 },
    { name: 'obtained earlier', claims: { iat: 1000, exp: 1100 }, at: now - 30_000, want: 50_000 },
    { name: 'floor for a short token', claims: { iat: 1000, exp: 1002 }, at: now, want: 5_000 },
    { name: 'floor when already due', claims: { exp: 900 }, at: now, want: 5_000 },
    { name: 'ceiling of setTimeout', claims: { iat: 1000, exp: 1000 + 10 * 365 * 86400 }, at: now, want: 2 ** 31 - 1 },
  ];
  for (const c of cases) assert.equal(refreshDelay(jwt(c.claims), c.at, now), c.want, c.name);
  assert.equal(refreshDelay(jwt({ sub: 'x' }), now, now), null, 'no exp');
  assert.equal(refreshDelay('opaque', now, now), null, 'not a JWT');
  assert.equal(refreshDelay(jwt({ iat: 1000, exp: 1010 }), now, now, { refreshAt: 0.5, minRefreshMs: 1000 }), 5_000);
});

test('getToken is called before every connect and its token authenticates', async () => {
  const f = fakeEnv();
  const tk = tokens(f.clock, 3600);
  const c = connect({ wsUrl: 'ws://x/ws', getToken: tk.getToken, secret: 'ignored', afterId: 4, env: f.env });
  const got = record(c);
  f.clock.advance(0);
  await flush();
  f.last().open();
  assert.deepEqual(f.last().sent, [{ type: 'auth', token: tk.issued[0], after_id: 4 }]);
  f.last().msg({ type: 'hello', unread_count: 0 });
  f.last().msg(note(5));
  f.last().end(1001);
  f.clock.advance(30_000);
  assert.equal(f.sockets.length, 1, 'the socket waits for the token');
  await flush();
  assert.equal(f.sockets.length, 2);
  f.last().open();
  assert.deepEqual(f.last().sent, [{ type: 'auth', token: tk.issued[1], after_id: 5 }]);
  assert.deepEqual(states(got), ['connecting', 'connected', 'reconnecting']);
  c.close();
  assert.equal(f.clock.pending(), 0);
});

test('the token is refreshed on the open socket at 80 % of its lifetime', async () => {
  const f = fakeEnv();
  const tk = tokens(f.clock, 100);
  const c = connect({ wsUrl: 'ws://x/ws', getToken: tk.getToken, env: f.env });
  const got = record(c);
  f.clock.advance(0);
  await flush();
  const s = f.last();
  s.open();
  s.msg({ type: 'hello', unread_count: 0 });
  const pong = () => { f.clock.advance(20_000); s.msg({ type: 'pong' }); };
  for (let i = 0; i < 3; i++) pong(); // 60 s
  f.clock.advance(19_999);
  s.msg({ type: 'pong' });
  await flush();
  assert.equal(tk.issued.length, 1, 'not before 80 s');
  f.clock.advance(1);
  await flush();
  assert.equal(tk.issued.length, 2);
  assert.deepEqual(s.sent.at(-1), { type: 'refresh', token: tk.issued[1] });
  // The next refresh counts from the new token: 80 s later again.
  for (let i = 0; i < 3; i++) pong();
  f.clock.advance(19_999);
  s.msg({ type: 'pong' });
  await flush();
  assert.equal(tk.issued.length, 2);
  f.clock.advance(1);
  await flush();
  assert.deepEqual(s.sent.at(-1), { type: 'refresh', token: tk.issued[2] });
  assert.equal(f.sockets.length, 1, 'refreshing keeps the socket');
  assert.deepEqual(states(got), ['connecting', 'connected']);
  c.close();
  assert.equal(f.clock.pending(), 0);
});

test('a short token is refreshed no sooner than the floor, and a failed refresh is retried', async () => {
  const f = fakeEnv();
  const tk = tokens(f.clock, 2);
  let fail = false;
  const getToken = () => (fail ? Promise.reject(new Error('backend down')) : tk.getToken());
  const c = connect({ wsUrl: 'ws://x/ws', getToken, env: f.env });
  f.clock.advance(0);
  await flush();
  const s = f.last();
  s.open();
  s.msg({ type: 'hello', unread_count: 0 });
  f.clock.advance(4_999);
  await flush();
  assert.equal(s.sent.filter((m) => m.type === 'refresh').length, 0, 'not before the 5 s floor');
  fail = true;
  f.clock.advance(1);
  await flush();
  assert.equal(s.sent.filter((m) => m.type === 'refresh').length, 0, 'the refresh failed');
  fail = false;
  s.msg({ type: 'pong' });
  f.clock.advance(5_000);
  await flush();
  assert.deepEqual(s.sent.at(-1), { type: 'refresh', token: tk.issued[1] }, 'retried after the floor');
  c.close();
  assert.equal(f.clock.pending(), 0);
});

test('4401 "token expired": a new token and one reconnect, then unauthorized', async () => {
  const f = fakeEnv();
  const tk = tokens(f.clock, 3600);
  const c = connect({ wsUrl: 'ws://x/ws', getToken: tk.getToken, env: f.env });
  const got = record(c);
  f.clock.advance(0);
  await flush();
  f.last().open();
  f.last().msg({ type: 'hello', unread_count: 0 });
  f.last().msg(note(3));

  // A sleeping tab missed its refresh: renewed at once, resuming from 3.
  f.last().onclose({ code: 4401, reason: 'token expired' });
  assert.deepEqual(got.filter(([t]) => t === 'status').at(-1)[1], { state: 'reconnecting', retryInMs: 0, attempt: 1, code: 4401 });
  f.clock.advance(0);
  await flush();
  assert.equal(f.sockets.length, 2);
  f.last().open();
  assert.deepEqual(f.last().sent, [{ type: 'auth', token: tk.issued[1], after_id: 3 }]);
  f.last().msg({ type: 'hello', unread_count: 0 });

  // A hello resets the budget: the next expiry is renewed too.
  f.last().onclose({ code: 4401, reason: 'token expired' });
  f.clock.advance(0);
  await flush();
  assert.equal(f.sockets.length, 3);
  f.last().open();
  // Refused again before any hello: the app's tokens do not work. Stop.
  f.last().onclose({ code: 4401, reason: 'token expired' });
  f.clock.advance(60_000);
  await flush();
  assert.equal(f.sockets.length, 3);
  assert.deepEqual(got.filter(([t]) => t === 'status').at(-1)[1], { state: 'unauthorized', code: 4401, reason: 'token expired' });
  assert.deepEqual(states(got), ['connecting', 'connected', 'reconnecting', 'connected', 'reconnecting', 'unauthorized']);
  assert.equal(f.clock.pending(), 0);
});

test('4401 for any other reason, or without getToken, stops at once', async (t) => {
  const cases = [
    { name: 'invalid token', getToken: true, reason: 'invalid token' },
    { name: 'refresh for another sub', getToken: true, reason: 'refresh for another subject' },
    { name: 'secret whose session expired', secret: 's', reason: 'token expired' },
    { name: 'cookie', reason: '' },
  ];
  for (const tc of cases) {
    await t.test(tc.name, async () => {
      const f = fakeEnv();
      const getToken = tc.getToken ? tokens(f.clock, 3600).getToken : undefined;
      const c = connect({ wsUrl: 'ws://x/ws', getToken, secret: tc.secret, env: f.env });
      const got = record(c);
      f.clock.advance(0);
      await flush();
      f.last().open();
      f.last().msg({ type: 'hello', unread_count: 0 });
      f.last().onclose({ code: 4401, reason: tc.reason });
      f.clock.advance(60_000);
      await flush();
      assert.equal(f.sockets.length, 1);
      assert.equal(states(got).at(-1), 'unauthorized');
      assert.equal(f.clock.pending(), 0);
    });
  }
});

test('a rejecting getToken is reported and retried with backoff', async () => {
  const f = fakeEnv();
  const tk = tokens(f.clock, 3600);
  let failures = 2;
  const err = new Error('GET /token: 502');
  const getToken = () => (failures-- > 0 ? Promise.reject(err) : tk.getToken());
  const c = connect({ wsUrl: 'ws://x/ws', getToken, env: f.env });
  const got = record(c);
  f.clock.advance(0);
  await flush();
  assert.equal(f.sockets.length, 0, 'no socket without a token');
  assert.deepEqual(got.filter(([t]) => t === 'status').at(-1)[1], { state: 'reconnecting', retryInMs: 500, attempt: 1, error: err });
  f.clock.advance(500);
  await flush();
  assert.deepEqual(got.filter(([t]) => t === 'status').at(-1)[1], { state: 'reconnecting', retryInMs: 1000, attempt: 2, error: err });
  f.clock.advance(1000);
  await flush();
  assert.equal(f.sockets.length, 1);
  f.last().open();
  assert.deepEqual(f.last().sent, [{ type: 'auth', token: tk.issued[0] }]);
  c.close();
});

test('getToken resolving null means signed out, at connect and at refresh', async (t) => {
  await t.test('connect', async () => {
    const { f, c, got } = started({ getToken: async () => null });
    await flush();
    assert.equal(f.sockets.length, 0);
    assert.deepEqual(states(got), ['connecting', 'unauthorized']);
    assert.equal(f.clock.pending(), 0);
  });
  await t.test('refresh', async () => {
    const f = fakeEnv();
    const tk = tokens(f.clock, 10);
    let signedIn = true;
    const c = connect({ wsUrl: 'ws://x/ws', getToken: () => (signedIn ? tk.getToken() : Promise.resolve('')), env: f.env });
    const got = record(c);
    f.clock.advance(0);
    await flush();
    f.last().open();
    f.last().msg({ type: 'hello', unread_count: 0 });
    signedIn = false;
    f.clock.advance(8_000);
    await flush();
    assert.equal(f.last().closedWith, 1000);
    assert.deepEqual(states(got), ['connecting', 'connected', 'unauthorized']);
    assert.equal(f.clock.pending(), 0);
  });
});

test('close() while getToken is pending opens no socket', async () => {
  const f = fakeEnv();
  let resolve;
  const c = connect({ wsUrl: 'ws://x/ws', getToken: () => new Promise((r) => { resolve = r; }), env: f.env });
  const got = record(c);
  f.clock.advance(0);
  c.close();
  resolve(jwt({ exp: 9e9 }));
  await flush();
  assert.equal(f.sockets.length, 0);
  assert.deepEqual(states(got), ['connecting']);
  assert.equal(f.clock.pending(), 0);
});

test('no refresh before the hello: the server would ignore it', async () => {
  const f = fakeEnv();
  const tk = tokens(f.clock, 10);
  const c = connect({ wsUrl: 'ws://x/ws', getToken: tk.getToken, env: f.env, options: { pingIntervalMs: 60_000 } });
  f.clock.advance(0);
  await flush();
  const s = f.last();
  s.open();
  f.clock.advance(9_000);
  await flush();
  assert.equal(tk.issued.length, 1, 'no refresh without a hello');
  s.msg({ type: 'hello', unread_count: 0 });
  f.clock.advance(4_999);
  await flush();
  assert.equal(tk.issued.length, 1, 'due at once, but not before the 5 s floor');
  f.clock.advance(1);
  await flush();
  assert.deepEqual(s.sent.at(-1), { type: 'refresh', token: tk.issued[1] });
  c.close();
});

test('coming back online while getToken is pending opens one socket', async () => {
  const f = fakeEnv({ online: false });
  const pending = [];
  const c = connect({ wsUrl: 'ws://x/ws', getToken: () => new Promise((r) => pending.push(r)), env: f.env });
  f.clock.advance(0);
  f.setOnline(true);
  assert.equal(pending.length, 2, 'a fresh token for the new attempt');
  for (const r of pending) r(jwt({ exp: 9e9 }));
  await flush();
  assert.equal(f.sockets.length, 1);
  c.close();
});
