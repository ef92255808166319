// notifyd-client.js — the reusable browser client for the notifyd websocket
// protocol (docs/protocol.md). Plain ES module, no dependency, no build step:
//
//   import { connect } from '/notifyd-client.js';
//   const client = connect({
//     wsUrl: 'ws://localhost:8001/ws',
//     getToken: () => fetch('/my-app/notifyd-token').then((r) => r.text()), // or secret, or the cookie
//     afterId: newestIdShown,
//   });
//   client.on('notification', (msg) => show(msg.notification));
//   client.on('unread_count', (n) => setBadge(n));
//   client.on('resync', () => reloadListOverHTTP());
//   client.on('status', (s) => showConnection(s.state));
//   // later: client.close();
//
// The client authenticates, keeps the highest notification id it has seen and
// resumes from it after every reconnect (the server replays what was missed),
// drops duplicates by id, reconnects with exponential backoff and full jitter,
// and detects dead sockets with application-level pings (browsers cannot see
// websocket control frames).
//
// Three ways to authenticate, in this order of preference for an app:
// - getToken: a function returning a promise of a fresh JWT signed by the
//   app's backend. It is called before every connect; the client sends
//   {"type":"refresh"} with a new one at 80 % of the token's lifetime, and
//   after a 4401 "token expired" it fetches a new token and reconnects once
//   before reporting 'unauthorized'.
// - secret: a session secret (POST /api/publisher/users/{external_id}/sessions).
// - neither: the notifyd_session cookie of the bundled page.
//
// Types: notifyd-client.d.ts beside this file (web/package.json makes web/
// an npm package, README "With npm, and TypeScript").

/** Reconnect and heartbeat tunables (milliseconds). */
export const defaults = Object.freeze({
  /** First backoff ceiling: 1 s. */
  backoffBaseMs: 1000,
  /** Backoff ceiling cap: 30 s. */
  backoffCapMs: 30000,
  /** A connection up this long resets the backoff: 60 s. */
  stableAfterMs: 60000,
  /** Interval of {"type":"ping"}: 20 s. */
  pingIntervalMs: 20000,
  /** Extra silence tolerated after a ping interval before the socket is dead: 10 s. */
  deadGraceMs: 10000,
  /** How many recent notification ids are remembered to drop duplicates. */
  dedupeWindow: 2000,
  /** Share of a token's lifetime after which it is refreshed: 0.8. */
  refreshAt: 0.8,
  /** The shortest wait before a refresh, so a short token cannot spin: 5 s. */
  minRefreshMs: 5000,
});

/** Close codes of the protocol that change what the client does. */
export const closeCodes = Object.freeze({
  unauthorized: 4401,
  tooMany: 4429,
});

/** The 4401 close reason of a token that expired without a refresh. */
export const tokenExpiredReason = 'token expired';

// The longest delay setTimeout honours (about 24.8 days); longer ones fire at once.
const maxTimerMs = 2 ** 31 - 1;

// The change messages of the protocol and the event each is emitted as;
// every one also carries the new unread count.
const changeEvents = Object.freeze({
  notification_updated: 'updated',
  notification_deleted: 'deleted',
  notifications_read: 'read_all',
});

const eventTypes = new Set([
  'notification', 'updated', 'deleted', 'read_all', 'event',
  'status', 'resync', 'hello', 'unread_count',
]);

/**
 * backoffDelay returns the wait before reconnect attempt `attempt` (0-based):
 * "full jitter", a uniform random delay in [0, min(cap, base·2^attempt)).
 * Full jitter spreads the reconnects of many clients after a server restart.
 *
 * @param {number} attempt 0 for the first retry.
 * @param {{baseMs?: number, capMs?: number, random?: () => number}} [opts]
 * @returns {number} milliseconds, an integer.
 */
export function backoffDelay(attempt, { baseMs = defaults.backoffBaseMs, capMs = defaults.backoffCapMs, random = Math.random } = {}) {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.floor(random() * ceiling);
}

/**
 * createDeduper remembers the last `limit` ids it accepted. `accept(id)`
 * returns true the first time it sees an id and false for repeats, so no id
 * is ever emitted twice.
 *
 * @param {number} [limit]
 * @param {number} [floor] ids at or below it count as seen (the app's afterId).
 * @returns {{accept: (id: number) => boolean, max: () => number}}
 */
export function createDeduper(limit = defaults.dedupeWindow, floor = 0) {
  const seen = new Set();
  let max = floor;
  // floor grows to the largest id forgotten so far.
  return {
    accept(id) {
      // A forgotten id is still a repeat: the server never sends an id below
      // one it already sent on the same stream, nor replays below the cursor.
      if (seen.has(id) || id <= floor) return false;
      seen.add(id);
      if (seen.size > limit) {
        const oldest = seen.values().next().value;
        seen.delete(oldest);
        if (oldest > floor) floor = oldest;
      }
      if (id > max) max = id;
      return true;
    },
    max: () => max,
  };
}

/**
 * jwtClaims returns the payload of a JWT (base64url JSON, the middle part),
 * or null when it is not one. Nothing is verified: the server does that; the
 * client only reads exp and iat to know when to refresh.
 *
 * @param {string} token
 * @returns {Record<string, any>|null}
 */
export function jwtClaims(token) {
  const parts = String(token).split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64.padEnd(b64.length + ((4 - (b64.length % 4)) % 4), '=')), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? claims : null;
  } catch {
    return null;
  }
}

/**
 * refreshDelay returns how long after `now` to refresh a token obtained at
 * `obtainedAt` (milliseconds), or null when it has no numeric exp. The
 * lifetime is exp − iat when the token has an iat (both from the issuer's
 * clock, so a skewed browser clock does not matter for a fresh token), else
 * exp − obtainedAt. The delay is refreshAt of it, at least minRefreshMs.
 *
 * @param {string} token
 * @param {number} obtainedAt when getToken() resolved (ms since the epoch).
 * @param {number} now
 * @param {{refreshAt?: number, minRefreshMs?: number}} [opts]
 * @returns {number|null}
 */
export function refreshDelay(token, obtainedAt, now, { refreshAt = defaults.refreshAt, minRefreshMs = defaults.minRefreshMs } = {}) {
  const c = jwtClaims(token);
  if (!c || !Number.isFinite(c.exp)) return null;
  const lifetimeMs = Number.isFinite(c.iat) && c.iat < c.exp ? (c.exp - c.iat) * 1000 : c.exp * 1000 - obtainedAt;
  const due = obtainedAt + Math.max(0, lifetimeMs) * refreshAt;
  return Math.min(maxTimerMs, Math.max(minRefreshMs, Math.round(due - now)));
}

/**
 * @typedef {object} Status
 * @property {'connecting'|'connected'|'reconnecting'|'offline'|'unauthorized'} state
 * @property {number} [retryInMs] reconnecting: the wait before the next attempt.
 * @property {number} [attempt]   reconnecting: 1 for the first retry.
 * @property {number} [code]      the close code of the socket that ended (1006: dropped).
 * @property {string} [reason]    unauthorized: the close reason ("token expired", ...), if any.
 * @property {any}    [error]     reconnecting: why getToken() rejected, when that is why.
 */

/**
 * @typedef {object} Client
 * @property {(type: string, fn: (payload: any) => void) => () => boolean} on
 *   Subscribe to an event; returns a function that unsubscribes (true when
 *   it removed the handler). Events:
 *   - 'notification' ({notification, unread_count}): a new notification, live
 *     or replayed after a reconnect; never the same id twice.
 *   - 'updated' ({notification, unread_count}): marked read or unread.
 *   - 'deleted' ({id, unread_count}).
 *   - 'read_all' ({up_to_id: number|null, unread_count}).
 *   - 'event' ({type, data}): a live-only event such as task_progress.
 *   - 'status' (Status): the connection state changed.
 *   - 'resync' ({reason: 'server'|'reconnect'}): reload what you show over
 *     HTTP — the server's backlog was too long, or the socket reconnected and
 *     read/unread/delete changes made meanwhile were not replayed.
 *   - 'hello' ({user, unread_count}): authenticated (every connect).
 *   - 'unread_count' (number): the authoritative unread count, from every
 *     message that carries one (hello, notification, updated, deleted,
 *     read_all, unread_count).
 * @property {() => void} close Close the socket and stop reconnecting.
 * @property {number|null} lastId The highest notification id seen (the resume cursor).
 * @property {Status} status The current connection status.
 */

/**
 * connect opens a live connection to notifyd and keeps it open until close()
 * or a 4401 (signed out).
 *
 * @param {object} opts
 * @param {string} opts.wsUrl The websocket URL, e.g. GET /api/config's ws_url.
 * @param {() => Promise<string|null>} [opts.getToken] Returns a promise of a
 *   fresh JWT from the app's backend; called before every connect and for
 *   every refresh. A rejection is reported as status 'reconnecting' with
 *   `error` and retried with the usual backoff (a failed refresh is retried
 *   after minRefreshMs while the socket is open). Resolving null or '' means
 *   "signed out": the client reports 'unauthorized' and stops.
 * @param {string} [opts.secret] A session secret, when no getToken is given.
 *   Omit both to authenticate with the notifyd_session cookie the browser
 *   sends on the upgrade (the page and the websocket must then be on the
 *   same host).
 * @param {number} [opts.afterId] The newest notification id the app already
 *   shows (0 when it shows none): the server replays every newer one, so none
 *   is missed between loading the list and connecting. Omit it to receive
 *   only notifications created after the connection.
 * @param {object} [opts.env] For tests: {WebSocket, setTimeout, clearTimeout,
 *   setInterval, clearInterval, now, random, isOnline, addEventListener,
 *   removeEventListener}; defaults to the browser's.
 * @param {Partial<typeof defaults>} [opts.options] Tunables, see defaults.
 * @returns {Client}
 */
export function connect({ wsUrl, getToken, secret, afterId, env = {}, options = {} } = {}) {
  if (!wsUrl) throw new TypeError('notifyd-client: connect needs wsUrl');
  if (getToken !== undefined && typeof getToken !== 'function') throw new TypeError('notifyd-client: getToken must be a function');
  const opt = { ...defaults, ...options };
  const g = globalThis;
  const e = {
    WebSocket: env.WebSocket ?? g.WebSocket,
    setTimeout: env.setTimeout ?? g.setTimeout.bind(g),
    clearTimeout: env.clearTimeout ?? g.clearTimeout.bind(g),
    setInterval: env.setInterval ?? g.setInterval.bind(g),
    clearInterval: env.clearInterval ?? g.clearInterval.bind(g),
    now: env.now ?? Date.now,
    random: env.random ?? Math.random,
    isOnline: env.isOnline ?? (() => g.navigator?.onLine !== false),
    addEventListener: env.addEventListener ?? g.addEventListener?.bind(g),
    removeEventListener: env.removeEventListener ?? g.removeEventListener?.bind(g),
  };

  const handlers = new Map([...eventTypes].map((t) => [t, new Set()]));
  // cursor is the resume point: null means "unknown" (no after_id is sent).
  let cursor = Number.isSafeInteger(afterId) && afterId >= 0 ? afterId : null;
  const dedupe = createDeduper(opt.dedupeWindow, cursor ?? 0);
  let ws = null;
  let wsToken = null;       // the token ({value, at}) ws authenticated with, if any
  let attempt = 0;          // failed connects since the last stable connection
  let connects = 0;         // sockets opened so far (the first one emits no resync)
  let connectedAt = 0;
  let retryTimer = null;
  let pingTimer = null;
  let deadTimer = null;
  let refreshTimer = null;
  let dialing = 0;          // bumped to abandon a getToken() still pending
  let renewed = false;      // a 4401 "token expired" was answered with a new token
  let stopped = false;
  let status = { state: 'connecting' };

  function emit(type, payload) {
    // A handler may call close(): nothing is emitted after that.
    if (stopped) return;
    for (const fn of [...handlers.get(type)]) {
      if (stopped) return;
      try {
        fn(payload);
      } catch (err) {
        // A broken handler must not break the connection or other handlers.
        (g.reportError ?? console.error)(err);
      }
    }
  }

  function setStatus(s) {
    status = s;
    emit('status', s);
  }

  function clearSocketTimers() {
    e.clearInterval(pingTimer);
    e.clearTimeout(deadTimer);
    e.clearTimeout(refreshTimer);
    pingTimer = deadTimer = refreshTimer = null;
  }

  // armDeadline restarts the "silent socket" watchdog: any message (pongs
  // included) proves the connection is alive.
  function armDeadline(sock) {
    e.clearTimeout(deadTimer);
    deadTimer = e.setTimeout(() => {
      if (sock === ws) drop(sock);
    }, opt.pingIntervalMs + opt.deadGraceMs);
  }

  function send(sock, msg) {
    try {
      sock.send(JSON.stringify(msg));
    } catch {
      // The socket is closing; its close event reconnects.
    }
  }

  function open() {
    retryTimer = null;
    if (stopped) return;
    // navigator.onLine is only a hint: a machine whose only network is
    // loopback says "offline" and still reaches ws://localhost. Show it,
    // and try anyway.
    if (!e.isOnline()) {
      if (status.state !== 'offline') setStatus({ state: 'offline' });
    } else if (status.state !== 'reconnecting') {
      // While retrying the indicator keeps its "reconnecting" countdown;
      // the first connect and a return from offline say "connecting".
      setStatus({ state: 'connecting' });
    }
    if (!getToken) {
      dial(null);
      return;
    }
    const my = ++dialing;
    fetchToken().then((token) => {
      if (my !== dialing || stopped) return;
      if (!token) signedOut({});
      else dial(token);
    }, (err) => {
      if (my !== dialing || stopped) return;
      scheduleRetry(undefined, err);
    });
  }

  // fetchToken calls getToken and notes when the token was obtained.
  async function fetchToken() {
    const token = await getToken();
    return token ? { value: String(token), at: e.now() } : null;
  }

  // dial opens a socket authenticated by token ({value, at}), or by the
  // secret or cookie when token is null.
  function dial(token) {
    let sock;
    try {
      sock = new e.WebSocket(wsUrl);
    } catch (err) {
      // An invalid URL throws synchronously: treat it like a failed connect.
      scheduleRetry(1006);
      return;
    }
    ws = sock;
    wsToken = token;
    connects++;
    sock.onopen = () => {
      if (sock !== ws) return;
      const auth = { type: 'auth' };
      if (token) auth.token = token.value;
      else if (secret) auth.secret = secret;
      if (cursor !== null) auth.after_id = cursor;
      send(sock, auth);
      armDeadline(sock);
    };
    sock.onmessage = (ev) => {
      if (sock !== ws) return;
      armDeadline(sock);
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return; // not ours to judge: the server only sends JSON
      }
      handle(sock, msg);
    };
    sock.onclose = (ev) => {
      if (sock !== ws) return;
      closed(ev.code, ev.reason);
    };
    // onerror is always followed by onclose, which does the work.
    sock.onerror = () => {};
  }

  function handle(sock, msg) {
    switch (msg?.type) {
      case 'hello': {
        const first = connects === 1;
        connectedAt = e.now();
        renewed = false;
        setStatus({ state: 'connected' });
        e.clearInterval(pingTimer);
        pingTimer = e.setInterval(() => send(sock, { type: 'ping' }), opt.pingIntervalMs);
        // The server ignores a refresh sent before its hello.
        if (wsToken) armRefresh(sock, wsToken);
        emit('hello', msg);
        emit('unread_count', msg.unread_count);
        // After any connect but the very first, changes made while the
        // socket was down (read, unread, delete) were not replayed.
        if (!first) emit('resync', { reason: 'reconnect' });
        break;
      }
      case 'notification': {
        const id = msg.notification?.id;
        if (!Number.isSafeInteger(id) || !dedupe.accept(id)) return;
        if (cursor === null || id > cursor) cursor = id;
        emit('notification', msg);
        emit('unread_count', msg.unread_count);
        break;
      }
      case 'notification_updated':
      case 'notification_deleted':
      case 'notifications_read':
        emit(changeEvents[msg.type], msg);
        emit('unread_count', msg.unread_count);
        break;
      case 'unread_count':
        emit('unread_count', msg.unread_count);
        break;
      case 'event':
        if (msg.event) emit('event', msg.event);
        break;
      case 'resync':
        // The server skipped the backlog; the app reloads over HTTP. The old
        // cursor would only trigger the same long replay again, so resume
        // from the next live notification instead.
        cursor = null;
        emit('resync', { reason: 'server' });
        break;
      default:
        // pong and unknown types: the watchdog was already re-armed.
    }
  }

  // drop abandons a silent socket: its close handshake would never finish.
  function drop(sock) {
    try {
      sock.close(4000, 'no message from the server');
    } catch {
      // already closing
    }
    ws = null;
    closed(1006);
  }

  function closed(code, reason) {
    clearSocketTimers();
    ws = null;
    if (stopped) return;
    if (connectedAt && e.now() - connectedAt >= opt.stableAfterMs) attempt = 0;
    connectedAt = 0;
    if (code === closeCodes.unauthorized) {
      if (getToken && reason === tokenExpiredReason && !renewed) {
        // The token ran out (a sleeping tab missed its refresh): one new
        // token, at once. A second 4401 before a hello means it is over.
        renewed = true;
        setStatus({ state: 'reconnecting', retryInMs: 0, attempt: attempt + 1, code });
        retryTimer = e.setTimeout(open, 0);
        return;
      }
      signedOut({ code, reason });
      return;
    }
    scheduleRetry(code);
  }

  // signedOut stops for good: retrying cannot help. Tell the app.
  function signedOut({ code, reason }) {
    detachWindow();
    const s = { state: 'unauthorized' };
    if (code) s.code = code;
    if (reason) s.reason = reason;
    setStatus(s);
    stopped = true;
  }

  // scheduleRetry tries again after a backoff delay, also while the browser
  // says it is offline (a hint only, see open): the status then says
  // "offline", and the retries go on. error: why getToken() rejected.
  function scheduleRetry(code, error) {
    const retryInMs = backoffDelay(attempt, { baseMs: opt.backoffBaseMs, capMs: opt.backoffCapMs, random: e.random });
    attempt++;
    const s = { state: e.isOnline() ? 'reconnecting' : 'offline', retryInMs, attempt };
    if (code !== undefined) s.code = code;
    if (error !== undefined) s.error = error;
    setStatus(s);
    retryTimer = e.setTimeout(open, retryInMs);
  }

  // armRefresh schedules the refresh of token on sock ahead of its exp (a
  // token without exp is never refreshed: the server refuses those anyway).
  function armRefresh(sock, token) {
    const ms = refreshDelay(token.value, token.at, e.now(), opt);
    if (ms !== null) refreshIn(sock, ms);
  }

  // refreshIn sends {"type":"refresh"} with a new token on sock after ms. A
  // failed getToken() is tried again after minRefreshMs, until the server
  // closes the socket with "token expired" and reconnecting takes over.
  function refreshIn(sock, ms) {
    e.clearTimeout(refreshTimer);
    refreshTimer = e.setTimeout(() => {
      refreshTimer = null;
      fetchToken().then((next) => {
        if (sock !== ws || stopped) return;
        if (!next) {
          // The app says its user signed out.
          try { sock.close(1000, 'signed out'); } catch { /* already closing */ }
          clearSocketTimers();
          ws = null;
          signedOut({});
          return;
        }
        send(sock, { type: 'refresh', token: next.value });
        wsToken = next;
        armRefresh(sock, next);
      }, () => {
        if (sock === ws && !stopped) refreshIn(sock, opt.minRefreshMs);
      });
    }, ms);
  }

  // onOffline only changes what is shown: a live socket is kept (loopback
  // still works when the browser says offline; a dead one is found by the
  // ping watchdog), and pending retries go on.
  function onOffline() {
    if (stopped || status.state === 'connected') return;
    setStatus({ ...status, state: 'offline' });
  }

  function onOnline() {
    if (stopped || ws) return;
    e.clearTimeout(retryTimer);
    attempt = 0;
    open();
  }

  function detachWindow() {
    e.removeEventListener?.('offline', onOffline);
    e.removeEventListener?.('online', onOnline);
  }

  e.addEventListener?.('offline', onOffline);
  e.addEventListener?.('online', onOnline);
  // Let the caller subscribe before the first status event.
  retryTimer = e.setTimeout(open, 0);

  return {
    on(type, fn) {
      const set = handlers.get(type);
      if (!set) throw new TypeError(`notifyd-client: unknown event ${JSON.stringify(type)}`);
      set.add(fn);
      return () => set.delete(fn);
    },
    close() {
      if (stopped) return;
      stopped = true;
      dialing++;
      detachWindow();
      e.clearTimeout(retryTimer);
      clearSocketTimers();
      const sock = ws;
      ws = null;
      if (sock) {
        try { sock.close(1000, 'client closed'); } catch { /* already closing */ }
      }
    },
    get lastId() { return cursor; },
    get status() { return status; },
  };
}
