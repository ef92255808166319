// notifyd-client.d.ts — TypeScript types for notifyd-client.js, the browser
// client of the notifyd websocket protocol (docs/protocol.md). They describe
// what the JavaScript does, not more: web/types.test.mjs checks that every
// export, tunable, event and client member here exists in the module, and
// web/typecheck/ compiles a usage file against this one (.ci/run).
//
// Needs no DOM or Node typings: the environment the client uses is described
// structurally (SocketLike, ClientEnv), so the browser's WebSocket and timers
// fit, and so do test fakes.

/** A JSON value, as the server sends it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

// ---------------------------------------------------------------------------
// The server's messages (docs/protocol.md, "Server → client"; the Go shapes
// are in notify/message.go, notification.go and user.go). Times are RFC 3339
// strings; ids are integers.

/** The signed-in user, in hello. Absent values are null, never missing. */
export interface User {
  readonly id: number;
  /** A self-signup account's username; null for a user of the publisher API or a token. */
  readonly username: string | null;
  /** The app's id of the user (a token's sub); null for a self-signup account. */
  readonly external_id: string | null;
  readonly name: string | null;
  readonly created_at: string;
}

/** How the frontend presents a notification. */
export type Style = 'info' | 'warning' | 'error';

/** A stored notification. */
export interface Notification {
  readonly id: number;
  readonly title: string;
  readonly content: string;
  readonly style: Style;
  /** What it links to (a path or an http(s) URL); null for nothing. */
  readonly url: string | null;
  /** The publisher's own JSON object, as given; null for none. */
  readonly data: JsonObject | null;
  readonly read: boolean;
  readonly created_at: string;
  readonly read_at: string | null;
}

/** A live-only event (task progress...): pushed to open sockets, never stored. */
export interface LiveEvent {
  /** Matches ^[a-z][a-z0-9_]{0,63}$, e.g. "task_progress". */
  readonly type: string;
  /** Any JSON value; absent when the publisher sent none (or null). */
  readonly data?: JsonValue;
}

/** {"type":"hello"}: authenticated; the first message of every connection. */
export interface HelloMessage {
  readonly type: 'hello';
  readonly user: User;
  readonly unread_count: number;
}

/** {"type":"notification"}: a new notification, live or replayed. */
export interface NotificationMessage {
  readonly type: 'notification';
  readonly notification: Notification;
  readonly unread_count: number;
}

/** {"type":"notification_updated"}: a notification was marked read or unread. */
export interface UpdatedMessage {
  readonly type: 'notification_updated';
  readonly notification: Notification;
  readonly unread_count: number;
}

/** {"type":"notification_deleted"}. */
export interface DeletedMessage {
  readonly type: 'notification_deleted';
  readonly id: number;
  readonly unread_count: number;
}

/** {"type":"notifications_read"}: read-all. */
export interface ReadAllMessage {
  readonly type: 'notifications_read';
  /** Every notification up to this id was marked read; null: all of them. */
  readonly up_to_id: number | null;
  readonly unread_count: number;
}

/** {"type":"event"}: carries a live-only event. */
export interface EventMessage {
  readonly type: 'event';
  readonly event: LiveEvent;
}

/** {"type":"unread_count"}: the count changed in ways the socket could not follow. */
export interface UnreadCountMessage {
  readonly type: 'unread_count';
  readonly unread_count: number;
}

/** {"type":"resync"}: the backlog was too long to replay; reload over HTTP. */
export interface ResyncMessage {
  readonly type: 'resync';
}

/** {"type":"pong"}: the answer to the client's ping (not emitted). */
export interface PongMessage {
  readonly type: 'pong';
}

/** Every message the server sends after authentication. */
export type ServerMessage =
  | HelloMessage
  | NotificationMessage
  | UpdatedMessage
  | DeletedMessage
  | ReadAllMessage
  | EventMessage
  | UnreadCountMessage
  | ResyncMessage
  | PongMessage;

// ---------------------------------------------------------------------------
// The client's own events.

/** The connection states, in the status event and client.status. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'unauthorized';

/**
 * 'connecting' (the first connect, or a return from offline) and
 * 'connected' (hello received) carry nothing else.
 */
export interface ConnectingStatus {
  readonly state: 'connecting' | 'connected';
  readonly retryInMs?: undefined;
  readonly attempt?: undefined;
  readonly code?: undefined;
  readonly reason?: undefined;
  readonly error?: undefined;
}

/** 'reconnecting': waiting retryInMs before the next attempt. */
export interface ReconnectingStatus {
  readonly state: 'reconnecting';
  /** The wait before the next attempt (0 for the one renewal after 4401 "token expired"). */
  readonly retryInMs: number;
  /** 1 for the first retry since the last stable connection. */
  readonly attempt: number;
  /** The close code of the socket that ended (1006: dropped); absent when getToken() rejected. */
  readonly code?: number;
  readonly reason?: undefined;
  /** Why getToken() rejected, when that is why. */
  readonly error?: unknown;
}

/**
 * 'offline': the browser says it is offline. Only a hint: the retries go
 * on, so the fields of the retry it replaces are kept when there was one.
 */
export interface OfflineStatus {
  readonly state: 'offline';
  readonly retryInMs?: number;
  readonly attempt?: number;
  readonly code?: number;
  readonly reason?: undefined;
  readonly error?: unknown;
}

/**
 * 'unauthorized': stopped for good (4401, or getToken() resolved null or
 * ''); sign in again and connect a new client.
 */
export interface UnauthorizedStatus {
  readonly state: 'unauthorized';
  readonly retryInMs?: undefined;
  readonly attempt?: undefined;
  /** 4401 when the server closed the socket; absent when getToken() said "signed out". */
  readonly code?: number;
  /** The close reason, if any: "token expired", "session revoked", "invalid token"... */
  readonly reason?: string;
  readonly error?: undefined;
}

/**
 * The connection status: {state, retryInMs?, attempt?, code?, reason?,
 * error?}. Every member declares every field, so s.retryInMs reads without
 * narrowing; narrowing on s.state tells which are set.
 */
export type Status = ConnectingStatus | ReconnectingStatus | OfflineStatus | UnauthorizedStatus;

/** The resync event: reload what you show over HTTP. */
export interface ResyncEvent {
  /**
   * 'server': the backlog was too long to replay; 'reconnect': the socket
   * reconnected, and read/unread/delete changes made meanwhile were not replayed.
   */
  readonly reason: 'server' | 'reconnect';
}

/** Each event name of client.on and the payload its handlers get. */
export interface ClientEvents {
  /** A new notification, live or replayed after a reconnect; never the same id twice. */
  notification: NotificationMessage;
  /** Marked read or unread. */
  updated: UpdatedMessage;
  deleted: DeletedMessage;
  read_all: ReadAllMessage;
  /** A live-only event such as task_progress (the message's event, unwrapped). */
  event: LiveEvent;
  /** The connection state changed. */
  status: Status;
  resync: ResyncEvent;
  /** Authenticated (every connect). */
  hello: HelloMessage;
  /**
   * The authoritative unread count, from every message that carries one
   * (hello, notification, updated, deleted, read_all, unread_count).
   */
  unread_count: number;
}

/** The event names client.on accepts; any other throws a TypeError. */
export type ClientEventName = keyof ClientEvents;

/** A live connection, returned by connect(). */
export interface Client {
  /**
   * Subscribe to an event. Returns the function that unsubscribes: it
   * returns true when it removed the handler, false when already removed.
   * A handler that throws is reported (reportError) and does not break the
   * connection or the other handlers.
   */
  on<K extends ClientEventName>(type: K, fn: (payload: ClientEvents[K]) => void): () => boolean;
  /** Close the socket and stop reconnecting; nothing is emitted after it. */
  close(): void;
  /** The highest notification id seen (the resume cursor); null when unknown. */
  readonly lastId: number | null;
  /** The current connection status. */
  readonly status: Status;
}

// ---------------------------------------------------------------------------
// connect and its options.

/** Reconnect, heartbeat and refresh tunables (milliseconds unless said). */
export interface Tunables {
  /** First backoff ceiling: 1000 (1 s). */
  readonly backoffBaseMs: number;
  /** Backoff ceiling cap: 30000 (30 s). */
  readonly backoffCapMs: number;
  /** A connection up this long resets the backoff: 60000 (60 s). */
  readonly stableAfterMs: number;
  /** Interval of {"type":"ping"}: 20000 (20 s). */
  readonly pingIntervalMs: number;
  /** Extra silence tolerated after a ping interval before the socket is dead: 10000 (10 s). */
  readonly deadGraceMs: number;
  /** How many recent notification ids are remembered to drop duplicates: 2000. */
  readonly dedupeWindow: number;
  /** Share of a token's lifetime after which it is refreshed: 0.8. */
  readonly refreshAt: number;
  /** The shortest wait before a refresh, so a short token cannot spin: 5000 (5 s). */
  readonly minRefreshMs: number;
}

/** Handler slot of a SocketLike; checked bivariantly, as the DOM's are. */
export type SocketHandler<E> = { bivarianceHack(ev: E): void }['bivarianceHack'];

/**
 * What the client needs of a websocket: the browser's WebSocket has it. The
 * client sets the four handlers and reads ev.data and ev.code/ev.reason.
 */
export interface SocketLike {
  onopen?: SocketHandler<unknown> | null;
  onmessage?: SocketHandler<{ readonly data: unknown }> | null;
  onclose?: SocketHandler<{ readonly code: number; readonly reason: string }> | null;
  onerror?: SocketHandler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** The outside world of the client; each member defaults to the browser's. */
export interface ClientEnv {
  WebSocket: new (url: string) => SocketLike;
  setTimeout(fn: () => void, ms: number): unknown;
  /** Called with what setTimeout returned, or null. */
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  /** Milliseconds since the epoch (Date.now). */
  now(): number;
  /** In [0, 1) (Math.random): the backoff jitter. */
  random(): number;
  /** navigator.onLine; a hint only. */
  isOnline(): boolean;
  addEventListener(type: 'online' | 'offline', listener: () => void): void;
  removeEventListener(type: 'online' | 'offline', listener: () => void): void;
}

/** What getToken may return: a JWT, or null, undefined or '' for "signed out". */
export type TokenResult = string | null | undefined;

/** The argument of connect. */
export interface ConnectOptions {
  /** The websocket URL, e.g. GET /api/config's ws_url. Required: connect throws a TypeError without it. */
  wsUrl: string;
  /**
   * Returns a fresh JWT from the app's backend (usually a promise of one);
   * called before every connect and for every refresh. A rejection is
   * reported as status 'reconnecting' with `error` and retried with the
   * usual backoff (a failed refresh is retried after minRefreshMs while the
   * socket is open). Null, undefined or '' means "signed out": the client
   * reports 'unauthorized' and stops. When given, `secret` is ignored.
   * Anything but a function throws a TypeError.
   */
  getToken?: () => TokenResult | PromiseLike<TokenResult>;
  /**
   * A session secret, used when no getToken is given. Omit both to
   * authenticate with the notifyd_session cookie the browser sends on the
   * upgrade (the page and the websocket must then be on the same host).
   */
  secret?: string;
  /**
   * The newest notification id the app already shows (0 when it shows
   * none): the server replays every newer one. Omit it (or pass null, or
   * anything but a non-negative safe integer) to receive only
   * notifications created after the connection.
   */
  afterId?: number | null;
  /** Tunables; see defaults. */
  options?: Partial<Tunables>;
  /** For tests and non-browser hosts: replaces parts of the browser's environment. */
  env?: Partial<ClientEnv>;
}

/** The default tunables (frozen). */
export declare const defaults: Readonly<Tunables>;

/** Close codes of the protocol that change what the client does (frozen). */
export declare const closeCodes: {
  /** Refused or ended credential: stop (after "token expired" with getToken: renew once). */
  readonly unauthorized: 4401;
  /** More than ws.max_connections_per_user sockets: retried with backoff. */
  readonly tooMany: 4429;
};

/** The 4401 close reason of a token that expired without a refresh. */
export declare const tokenExpiredReason: 'token expired';

/**
 * backoffDelay returns the wait before reconnect attempt `attempt`
 * (0-based): "full jitter", a uniform random integer delay in
 * [0, min(capMs, baseMs·2^attempt)) milliseconds.
 */
export declare function backoffDelay(
  attempt: number,
  opts?: { baseMs?: number; capMs?: number; random?: () => number },
): number;

/** What createDeduper returns. */
export interface Deduper {
  /** True the first time id is seen, false for a repeat or an id at or below the floor. */
  accept(id: number): boolean;
  /** The largest id accepted so far, or the floor. */
  max(): number;
}

/**
 * createDeduper remembers the last `limit` ids it accepted (default
 * defaults.dedupeWindow); ids at or below `floor` (default 0) count as seen.
 */
export declare function createDeduper(limit?: number, floor?: number): Deduper;

/**
 * jwtClaims returns the payload of a JWT (nothing is verified), or null when
 * token is not a JWT with a JSON object as its payload.
 */
export declare function jwtClaims(token: string): JsonObject | null;

/**
 * refreshDelay returns how long after `now` to refresh a token obtained at
 * `obtainedAt` (ms since the epoch), or null when it has no numeric exp:
 * refreshAt of its lifetime (exp − iat, else exp − obtainedAt), at least
 * minRefreshMs.
 */
export declare function refreshDelay(
  token: string,
  obtainedAt: number,
  now: number,
  opts?: { refreshAt?: number; minRefreshMs?: number },
): number | null;

/**
 * connect opens a live connection to notifyd and keeps it open until
 * close(), or until it is signed out (status 'unauthorized'). The first
 * attempt starts on a timer, so handlers subscribed right after connect()
 * see every event.
 */
export declare function connect(opts: ConnectOptions): Client;
