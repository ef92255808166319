// usage.ts — compiled, never run (tsc --noEmit, .ci/run): every export,
// option, event and message of notifyd-client.d.ts used as an app would,
// with exact type assertions, and wrong usage that must not compile
// (each @ts-expect-error fails the check if its line compiles).
//
// It imports the package by name: web/ is installed here from file:.. as an
// app installs it, so package.json's "exports" and "types" are checked too.

import {
  connect,
  defaults,
  closeCodes,
  tokenExpiredReason,
  backoffDelay,
  createDeduper,
  jwtClaims,
  refreshDelay,
} from 'notifyd-client';
import type {
  Client,
  ClientEnv,
  ClientEventName,
  ConnectOptions,
  Deduper,
  JsonObject,
  JsonValue,
  LiveEvent,
  Notification,
  ServerMessage,
  SocketLike,
  Status,
  Style,
  Tunables,
  User,
} from 'notifyd-client';

// Equal is true only when A and B are the same type (not merely assignable).
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

// --- the constants and helpers ---------------------------------------------

const tunables: Readonly<Tunables> = defaults;
const backoffBaseMs: number = defaults.backoffBaseMs;
assertType<Equal<typeof closeCodes.unauthorized, 4401>>();
assertType<Equal<typeof closeCodes.tooMany, 4429>>();
assertType<Equal<typeof tokenExpiredReason, 'token expired'>>();
// @ts-expect-error defaults is frozen
defaults.backoffCapMs = 1;
// @ts-expect-error closeCodes is frozen
closeCodes.unauthorized = 4000;

const wait: number = backoffDelay(0) + backoffDelay(3, { baseMs: 500, capMs: 10_000, random: () => 0.5 });
// @ts-expect-error the attempt is a number
backoffDelay('1');

const dedupe: Deduper = createDeduper(100, 7);
const fresh: boolean = dedupe.accept(8);
const highest: number = createDeduper().max();

const claims = jwtClaims('a.b.c');
assertType<Equal<typeof claims, JsonObject | null>>();
const exp: JsonValue | undefined = claims?.exp;

const due = refreshDelay('a.b.c', Date.now(), Date.now(), { refreshAt: 0.5, minRefreshMs: 1000 });
assertType<Equal<typeof due, number | null>>();

// --- connect and its options -------------------------------------------------

// A fake environment, as in web/client.test.mjs: no DOM needed.
class FakeSocket implements SocketLike {
  sent: string[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(data);
  }
  close(code?: number, reason?: string): void {
    this.onclose?.({ code: code ?? 1005, reason: reason ?? '' });
  }
}
let clock = 0;
const env: ClientEnv = {
  WebSocket: FakeSocket,
  setTimeout: (fn, ms) => ({ fn, at: clock + ms }),
  clearTimeout: () => {},
  setInterval: (fn, ms) => ({ fn, every: ms }),
  clearInterval: () => {},
  now: () => clock++,
  random: () => 0.5,
  isOnline: () => true,
  addEventListener: () => {},
  removeEventListener: () => {},
};

const everything: ConnectOptions = {
  wsUrl: 'ws://localhost:8001/ws',
  getToken: async () => 'header.payload.signature',
  secret: 'ignored when getToken is given',
  afterId: 0,
  options: {
    backoffBaseMs: 1000,
    backoffCapMs: 30_000,
    stableAfterMs: 60_000,
    pingIntervalMs: 20_000,
    deadGraceMs: 10_000,
    dedupeWindow: 2000,
    refreshAt: 0.8,
    minRefreshMs: 5000,
  },
  env,
};
const client: Client = connect(everything);

// Each way to authenticate, and each answer getToken may give.
connect({ wsUrl: 'ws://x/ws', secret: 's3cret', afterId: 42 });
connect({ wsUrl: 'ws://x/ws' }); // the session cookie
connect({ wsUrl: 'ws://x/ws', getToken: () => Promise.resolve(null) }); // signed out
connect({ wsUrl: 'ws://x/ws', getToken: () => 'a.b.c' }); // a plain value is awaited too
connect({ wsUrl: 'ws://x/ws', afterId: client.lastId, env: { now: () => 0 } }); // carry a cursor over

// @ts-expect-error wsUrl is required
connect({ secret: 's3cret' });
// @ts-expect-error connect needs its options
connect();
// @ts-expect-error getToken must be a function
connect({ wsUrl: 'ws://x/ws', getToken: 'a.b.c' });
// @ts-expect-error getToken returns a token, not a number
connect({ wsUrl: 'ws://x/ws', getToken: async () => 42 });
// @ts-expect-error afterId is a number
connect({ wsUrl: 'ws://x/ws', afterId: '7' });
// @ts-expect-error an unknown tunable
connect({ wsUrl: 'ws://x/ws', options: { pingEveryMs: 1000 } });
// @ts-expect-error a socket class must have send and close
connect({ wsUrl: 'ws://x/ws', env: { WebSocket: class { constructor(readonly url: string) {} } } });

// --- the client and every event ----------------------------------------------

const cursor: number | null = client.lastId;
const now: Status = client.status;
// @ts-expect-error lastId is read-only
client.lastId = 3;

const off: () => boolean = client.on('notification', (msg) => {
  assertType<Equal<typeof msg.type, 'notification'>>();
  const n: Notification = msg.notification;
  const shown: [number, string, string, Style, boolean, string] = [n.id, n.title, n.content, n.style, n.read, n.created_at];
  const link: string | null = n.url;
  const data: JsonObject | null = n.data;
  const readAt: string | null = n.read_at;
  const count: number = msg.unread_count;
  void [shown, link, data, readAt, count];
});
off();
client.on('updated', (msg) => {
  assertType<Equal<typeof msg.type, 'notification_updated'>>();
  const read: boolean = msg.notification.read;
  const count: number = msg.unread_count;
  void [read, count];
});
client.on('deleted', (msg) => {
  assertType<Equal<typeof msg.type, 'notification_deleted'>>();
  const gone: number = msg.id;
  const count: number = msg.unread_count;
  void [gone, count];
});
client.on('read_all', (msg) => {
  assertType<Equal<typeof msg.type, 'notifications_read'>>();
  assertType<Equal<typeof msg.up_to_id, number | null>>();
  const count: number = msg.unread_count;
  void count;
});
client.on('event', (ev) => {
  assertType<Equal<typeof ev, LiveEvent>>();
  const type: string = ev.type;
  const data: JsonValue | undefined = ev.data;
  if (ev.type === 'task_progress' && typeof ev.data === 'object' && ev.data !== null && !Array.isArray(ev.data)) {
    const progress: JsonValue = ev.data.progress;
    void progress;
  }
  void [type, data];
});
client.on('status', (s) => {
  assertType<Equal<typeof s.state, 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'unauthorized'>>();
  // Every field reads without narrowing...
  const fields: [number | undefined, number | undefined, number | undefined, string | undefined, unknown] = [
    s.retryInMs, s.attempt, s.code, s.reason, s.error,
  ];
  void fields;
  // ...and narrowing tells which are set.
  if (s.state === 'reconnecting') {
    const retryInMs: number = s.retryInMs;
    const attempt: number = s.attempt;
    void [retryInMs, attempt];
  }
  if (s.state === 'unauthorized' && s.code === closeCodes.unauthorized && s.reason === tokenExpiredReason) {
    // @ts-expect-error an unauthorized status has no retry
    const retryInMs: number = s.retryInMs;
    void retryInMs;
  }
  // @ts-expect-error not a state
  if (s.state === 'closed') return;
});
client.on('resync', (r) => {
  assertType<Equal<typeof r.reason, 'server' | 'reconnect'>>();
});
client.on('hello', (msg) => {
  assertType<Equal<typeof msg.type, 'hello'>>();
  const u: User = msg.user;
  const who: [number, string | null, string | null, string | null, string] = [u.id, u.username, u.external_id, u.name, u.created_at];
  const count: number = msg.unread_count;
  void [who, count];
});
client.on('unread_count', (n) => {
  assertType<Equal<typeof n, number>>();
});
// A handler may return anything (an async one returns a promise).
client.on('resync', async () => {
  await Promise.resolve();
});

// @ts-expect-error not an event name (the server's type is "notification_updated", the event "updated")
client.on('notification_updated', () => {});
// @ts-expect-error the unread count is a number
client.on('unread_count', (n: string) => n);
// @ts-expect-error deleted carries an id, not a notification
client.on('deleted', (msg) => msg.notification);
// @ts-expect-error a status is not a notification message
client.on('status', (msg: { notification: Notification }) => msg);

const names: ClientEventName[] = ['notification', 'updated', 'deleted', 'read_all', 'event', 'status', 'resync', 'hello', 'unread_count'];
for (const name of names) client.on(name, () => {});
client.close();

// --- every server message, as a consumer of raw frames would switch on it ----

function describe(msg: ServerMessage): string {
  switch (msg.type) {
    case 'hello':
      return `hello ${msg.user.id}, ${msg.unread_count} unread`;
    case 'notification':
    case 'notification_updated':
      return `${msg.notification.id}: ${msg.notification.title}`;
    case 'notification_deleted':
      return `deleted ${msg.id}`;
    case 'notifications_read':
      return `read up to ${msg.up_to_id ?? 'all'}`;
    case 'event':
      return `event ${msg.event.type}`;
    case 'unread_count':
      return `${msg.unread_count} unread`;
    case 'resync':
      return 'resync';
    case 'pong':
      return 'pong';
    default: {
      const never: never = msg;
      return never;
    }
  }
}

export { tunables, backoffBaseMs, wait, fresh, highest, exp, cursor, now, describe };
