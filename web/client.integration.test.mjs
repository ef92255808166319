// The JS client against a real notifyd: run by the Go test
// TestJSClientAgainstNotifyd (cmd/notifyd/jsclient_test.go), which starts the
// service, creates the users and passes everything in NOTIFYD_IT_* variables:
//
//   go test -run JSClient ./cmd/notifyd/
//
// Node has no WebSocket before 22: the Go test adds --experimental-websocket
// (Node ≥ 20.10). Run directly by `node --test web/`, these tests skip.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { connect } from './notifyd-client.js';

const env = process.env;
const skip = env.NOTIFYD_IT_WS_URL ? false : 'needs a running notifyd: go test -run JSClient ./cmd/notifyd/';
// waitMs bounds every wait for the server; nothing here measures speed.
const waitMs = 15_000;

// publish creates a notification for an external id over the publisher API.
async function publish(externalId, title) {
  const res = await fetch(`${env.NOTIFYD_IT_HTTP_URL}/api/publisher/users/${encodeURIComponent(externalId)}/notifications`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${env.NOTIFYD_IT_API_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ title, url: '/capsules/42', data: { capsule_id: 42 } }),
  });
  assert.equal(res.status, 201, `publish ${title}: ${await res.clone().text()}`);
  return (await res.json()).notification;
}

// sign returns an HS256 JWT, as an app's Node backend would make one.
function sign(claims) {
  const part = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${body}.${createHmac('sha256', env.NOTIFYD_IT_JWT_SECRET).update(body).digest('base64url')}`;
}

const nowS = () => Math.floor(Date.now() / 1000);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// harness connects a client whose sockets and sent frames are recorded and
// whose "network" the test can take offline, and records every event.
function harness(opts) {
  const sockets = [];
  const waiters = new Set();
  const changed = () => { for (const w of waiters) w(); };
  class RecordingWebSocket extends WebSocket {
    constructor(url) {
      super(url);
      this.frames = [];
      sockets.push(this);
    }
    send(data) {
      this.frames.push(data);
      super.send(data);
      changed();
    }
  }
  const net = { online: true, listeners: {} };
  const events = [];
  const client = connect({
    ...opts,
    env: {
      WebSocket: RecordingWebSocket,
      isOnline: () => net.online,
      addEventListener: (type, fn) => { net.listeners[type] = fn; },
      removeEventListener: (type) => { delete net.listeners[type]; },
    },
  });
  for (const type of ['notification', 'status', 'resync', 'hello']) {
    client.on(type, (payload) => {
      events.push([type, payload]);
      changed();
    });
  }
  return {
    client, sockets, events,
    of: (type) => events.filter(([t]) => t === type).map(([, p]) => p),
    ids: () => events.filter(([t]) => t === 'notification').map(([, m]) => m.notification.id),
    states: () => events.filter(([t]) => t === 'status').map(([, s]) => s.state),
    auth: (i) => JSON.parse(sockets[i].frames[0]),
    setOnline(v) {
      net.online = v;
      if (v) net.listeners.online?.();
    },
    // until resolves once pred() holds, checked after every event and
    // every frame sent; it fails at once when the client stopped
    // (unauthorized) without it.
    until(what, pred) {
      return new Promise((resolve, reject) => {
        const fail = (why) => {
          cleanup();
          reject(new Error(`${what}: ${why}; events: ${JSON.stringify(events.map(([t, p]) => [t, p?.state ?? p?.notification?.id ?? p]))}`));
        };
        const check = () => {
          if (pred()) {
            cleanup();
            resolve();
          } else if (client.status.state === 'unauthorized') {
            fail('the client stopped');
          }
        };
        const timer = setTimeout(() => fail(`not within ${waitMs} ms`), waitMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

test('secret: a published notification arrives once, and resumes with afterId after the server closes the socket', { skip }, async () => {
  const ext = env.NOTIFYD_IT_EXTERNAL_ID;
  const h = harness({ wsUrl: env.NOTIFYD_IT_WS_URL, secret: env.NOTIFYD_IT_SECRET, afterId: 0 });
  try {
    await h.until('connected', () => h.states().includes('connected'));
    assert.deepEqual(h.auth(0), { type: 'auth', secret: env.NOTIFYD_IT_SECRET, after_id: 0 });
    assert.equal(h.of('hello')[0].user.external_id, ext);

    const n1 = await publish(ext, 'Live one');
    await h.until('n1 live', () => h.ids().includes(n1.id));
    const got = h.of('notification')[0].notification;
    assert.equal(got.url, '/capsules/42');
    assert.deepEqual(got.data, { capsule_id: 42 });

    // The server closes the socket (an unparseable frame: 4400) while the
    // "network" is down, so the client waits; n2 is stored meanwhile.
    h.setOnline(false);
    WebSocket.prototype.send.call(h.sockets[0], 'not json');
    await h.until('closed by the server', () => h.of('status').some((s) => s.state === 'offline' && s.code === 4400));
    const n2 = await publish(ext, 'While away');

    h.setOnline(true);
    await h.until('n2 replayed', () => h.ids().includes(n2.id));
    assert.deepEqual(h.auth(1), { type: 'auth', secret: env.NOTIFYD_IT_SECRET, after_id: n1.id });
    const n3 = await publish(ext, 'Live again');
    await h.until('n3 live', () => h.ids().includes(n3.id));
    // The server sends one user's notifications in id order, replay first:
    // a duplicate of n1 or n2 would have come before n3.
    assert.deepEqual(h.ids(), [n1.id, n2.id, n3.id]);
    assert.deepEqual(h.of('resync'), [{ reason: 'reconnect' }]);
    assert.equal(h.client.lastId, n3.id);
    assert.equal(h.sockets.length, 2);
  } finally {
    h.client.close();
  }
});

const jwtSkip = skip || (env.NOTIFYD_IT_JWT_SECRET ? false : 'no NOTIFYD_IT_JWT_SECRET');

test('getToken: a refresh keeps the socket open past the first token\'s exp', { skip: jwtSkip }, async () => {
  const sub = 'jwt-refresh-user';
  const issued = [];
  const getToken = async () => {
    const iat = nowS();
    issued.push({ iat, exp: iat + 6 });
    return sign({ sub, ...issued.at(-1) });
  };
  // Refresh at half the lifetime: a wide margin before exp on a busy machine.
  const h = harness({ wsUrl: env.NOTIFYD_IT_WS_URL, getToken, options: { refreshAt: 0.5, minRefreshMs: 500 } });
  try {
    await h.until('connected', () => h.states().includes('connected'));
    assert.equal(h.auth(0).token.split('.').length, 3);
    assert.equal(h.of('hello')[0].user.external_id, sub, 'a token for an unknown sub creates the user');
    await h.until('refreshed', () => h.sockets[0].frames.some((f) => JSON.parse(f).type === 'refresh'));
    // Past the first token's exp and the server's leeway, the socket is
    // still the first one and still delivers.
    const leewayMs = Number(env.NOTIFYD_IT_JWT_LEEWAY_MS ?? 0);
    await sleep(issued[0].exp * 1000 + leewayMs + 1000 - Date.now());
    const n = await publish(sub, 'After the first exp');
    await h.until('delivered', () => h.ids().includes(n.id));
    assert.equal(h.sockets.length, 1);
    assert.deepEqual(h.states(), ['connecting', 'connected']);
  } finally {
    h.client.close();
  }
});

test('getToken: 4401 "token expired" gets a new token and reconnects once, then unauthorized', { skip: jwtSkip }, async () => {
  const sub = 'jwt-expiry-user';
  let calls = 0;
  const getToken = async () => {
    calls++;
    const iat = nowS();
    // The third token is already expired: the renewal did not help.
    return sign({ sub, iat, exp: calls === 3 ? iat - 60 : iat + 2 });
  };
  // No refresh before exp: the server must close the socket.
  const h = harness({ wsUrl: env.NOTIFYD_IT_WS_URL, getToken, options: { minRefreshMs: 600_000 } });
  try {
    await h.until('connected', () => h.states().includes('connected'));
    const n = await publish(sub, 'Before the token ran out');
    await h.until('n live', () => h.ids().includes(n.id));
    await h.until('reconnected with a new token', () => h.states().filter((s) => s === 'connected').length === 2);
    const renewal = h.of('status').find((s) => s.state === 'reconnecting');
    assert.deepEqual(renewal, { state: 'reconnecting', retryInMs: 0, attempt: 1, code: 4401 });
    assert.notEqual(h.auth(1).token, h.auth(0).token);
    assert.equal(h.auth(1).after_id, n.id, 'the renewal resumes');

    // The second token expires too: renewed again (a hello reset the
    // budget), but the third is refused before any hello: unauthorized.
    await h.until('unauthorized', () => h.states().includes('unauthorized'));
    const last = h.of('status').at(-1);
    assert.equal(last.state, 'unauthorized');
    assert.equal(last.code, 4401);
    assert.equal(calls, 3);
    assert.equal(h.sockets.length, 3);
    assert.deepEqual(h.states(), ['connecting', 'connected', 'reconnecting', 'connected', 'reconnecting', 'unauthorized']);
  } finally {
    h.client.close();
  }
});

test('getToken: a refresh for another user is refused with 4401 and stops the client', { skip: jwtSkip }, async () => {
  let calls = 0;
  const getToken = async () => {
    calls++;
    const iat = nowS();
    return sign({ sub: calls === 1 ? 'jwt-owner' : 'jwt-intruder', iat, exp: iat + 10 });
  };
  const h = harness({ wsUrl: env.NOTIFYD_IT_WS_URL, getToken, options: { refreshAt: 0.2, minRefreshMs: 500 } });
  try {
    await h.until('unauthorized', () => h.states().includes('unauthorized'));
    assert.equal(h.of('hello')[0].user.external_id, 'jwt-owner');
    assert.deepEqual(h.of('status').at(-1), { state: 'unauthorized', code: 4401, reason: 'refresh for another user' });
    assert.equal(calls, 2, 'no new token: this is not an expiry');
    assert.equal(h.sockets.length, 1);
  } finally {
    h.client.close();
  }
});
