// notifyd-client.js — the reusable browser client for the notifyd websocket
// protocol (docs/protocol.md). Plain ES module, no dependency, no build step:
//
//   import { connect } from '/notifyd-client.js';
//   const client = connect({ wsUrl: 'ws://localhost:8001/ws', afterId: newestIdShown });
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
});

/** Close codes of the protocol that change what the client does. */
export const closeCodes = Object.freeze({
  unauthorized: 4401,
  tooMany: 4429,
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
 * @typedef {object} Status
 * @property {'connecting'|'connected'|'reconnecting'|'offline'|'unauthorized'} state
 * @property {number} [retryInMs] reconnecting: the wait before the next attempt.
 * @property {number} [attempt]   reconnecting: 1 for the first retry.
 * @property {number} [code]      the close code of the socket that ended (1006: dropped).
 */

/**
 * @typedef {object} Client
 * @property {(type: string, fn: (payload: any) => void) => () => void} on
 *   Subscribe to an event; returns a function that unsubscribes. Events:
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
 * @param {string} [opts.secret] A session secret. Omit it to authenticate
 *   with the notifyd_session cookie the browser sends on the upgrade (the page
 *   and the websocket must then be on the same host).
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
export function connect({ wsUrl, secret, afterId, env = {}, options = {} } = {}) {
  if (!wsUrl) throw new TypeError('notifyd-client: connect needs wsUrl');
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
  let attempt = 0;          // failed connects since the last stable connection
  let connects = 0;         // sockets opened so far (the first one emits no resync)
  let connectedAt = 0;
  let retryTimer = null;
  let pingTimer = null;
  let deadTimer = null;
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
    pingTimer = deadTimer = null;
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
    let sock;
    try {
      sock = new e.WebSocket(wsUrl);
    } catch (err) {
      // An invalid URL throws synchronously: treat it like a failed connect.
      scheduleRetry(1006);
      return;
    }
    ws = sock;
    connects++;
    sock.onopen = () => {
      if (sock !== ws) return;
      const auth = { type: 'auth' };
      if (secret) auth.secret = secret;
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
      closed(ev.code);
    };
    // onerror is always followed by onclose, which does the work.
    sock.onerror = () => {};
  }

  function handle(sock, msg) {
    switch (msg?.type) {
      case 'hello': {
        const first = connects === 1;
        connectedAt = e.now();
        setStatus({ state: 'connected' });
        e.clearInterval(pingTimer);
        pingTimer = e.setInterval(() => send(sock, { type: 'ping' }), opt.pingIntervalMs);
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
        emit('updated', msg);
        emit('unread_count', msg.unread_count);
        break;
      case 'notification_deleted':
        emit('deleted', msg);
        emit('unread_count', msg.unread_count);
        break;
      case 'notifications_read':
        emit('read_all', msg);
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

  function closed(code) {
    clearSocketTimers();
    ws = null;
    if (stopped) return;
    if (connectedAt && e.now() - connectedAt >= opt.stableAfterMs) attempt = 0;
    connectedAt = 0;
    if (code === closeCodes.unauthorized) {
      // Signed out: retrying cannot help. Tell the app, then stop for good.
      detachWindow();
      setStatus({ state: 'unauthorized', code });
      stopped = true;
      return;
    }
    scheduleRetry(code);
  }

  // scheduleRetry tries again after a backoff delay, also while the browser
  // says it is offline (a hint only, see open): the status then says
  // "offline", and the retries go on.
  function scheduleRetry(code) {
    const retryInMs = backoffDelay(attempt, { baseMs: opt.backoffBaseMs, capMs: opt.backoffCapMs, random: e.random });
    attempt++;
    const state = e.isOnline() ? 'reconnecting' : 'offline';
    setStatus({ state, retryInMs, attempt, code });
    retryTimer = e.setTimeout(open, retryInMs);
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
