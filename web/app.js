// app.js — the notifyd web inbox: wires the HTTP API, the live client and the
// views. What the page shows is a first page of notifications loaded over
// HTTP, kept current by websocket messages, and reloaded after every
// (re)connect because read/unread/delete changes made while a socket was
// down are not replayed.

import { connect } from './notifyd-client.js';
import { api } from './api.js';
import { $ } from './dom.js';
import { badgeText } from './format.js';
import { createInbox } from './inbox.js';
import { createToasts } from './toasts.js';
import { createTasks } from './tasks.js';
import { createConnection } from './connection.js';
import { createAuth } from './auth.js';
import { goAfter, isPlainClick } from './links.js';

const pageSize = 20;
const clockEveryMs = 30000;
const panelKey = 'notifyd.panel';

const el = {
  boot: $('boot'), bootText: $('boot-text'), bootRetry: $('boot-retry'),
  app: $('app'), session: $('session'), username: $('username'), hello: $('hello'),
  bell: $('bell'), badge: $('badge'), panel: $('panel'), panelError: $('panel-error'),
  markAll: $('mark-all'), loadOlder: $('load-older'), logout: $('logout'),
  pageError: $('page-error'), originWarning: $('origin-warning'),
};

let wsUrl = '';
// originProblem explains why this page's origin will be refused; '' when it
// is allowed.
let originProblem = '';
let user = null;
let client = null;
let unread = 0;
let clock = 0;
// reloadGen identifies the newest reload; queue collects the websocket
// changes that arrive while it is in flight, replayed on its snapshot.
let reloadGen = 0;
let queue = null;

const inbox = createInbox(el.panel, { onOpen, onToggleRead, onDelete });
const toasts = createToasts($('toasts'), { onOpen: showInPanel });
const tasks = createTasks(el.app, { api, onUnauthorized: () => leave('Your session has ended. Please log in again.') });
const conn = createConnection($('conn-status'), { wsUrl: () => wsUrl });
const auth = createAuth($('auth'), { api, onLoggedIn: (u) => enter(u) });

el.bootRetry.addEventListener('click', boot);
el.bell.addEventListener('click', () => setPanel(el.panel.hidden));
el.markAll.addEventListener('click', markAll);
el.loadOlder.addEventListener('click', loadOlder);
el.logout.addEventListener('click', logout);
document.addEventListener('keydown', (ev) => {
  if (ev.key !== 'Escape' || el.panel.hidden || !user) return;
  const inside = el.panel.contains(document.activeElement);
  setPanel(false);
  if (inside || document.activeElement === document.body) el.bell.focus();
});

boot();

async function boot() {
  el.boot.hidden = false;
  el.bootText.textContent = 'Loading…';
  el.bootRetry.hidden = true;
  try {
    const cfg = await api('GET', '/api/config');
    wsUrl = cfg.ws_url;
    tasks.enable(cfg.tasks !== false);
    checkOrigin(cfg.allowed_origins);
    // 200 {"user": null} when signed out: no failed request in the console.
    const probe = await api('GET', '/api/session');
    if (!probe.user) {
      el.boot.hidden = true;
      auth.show();
      return;
    }
    enter(probe.user);
  } catch (err) {
    if (err.code === 'unauthorized') {
      el.boot.hidden = true;
      auth.show();
      return;
    }
    el.bootText.textContent = `Cannot load notifyd: ${err.message}`;
    el.bootRetry.hidden = false;
  }
}

async function enter(u) {
  user = u;
  el.boot.hidden = true;
  auth.hide();
  el.pageError.hidden = true;
  // A self-signup account has a username; an app's user (signed in by its
  // backend) a display name or at least its external id.
  const shown = u.name || u.username || u.external_id;
  el.username.textContent = shown;
  el.hello.textContent = `Hello, ${shown}`;
  el.session.hidden = false;
  el.app.hidden = false;
  setPanel(sessionStorage.getItem(panelKey) === 'open');
  clearInterval(clock);
  clock = setInterval(() => inbox.refreshTimes(), clockEveryMs);
  const loaded = await reload();
  if (user !== u) return; // logged out meanwhile
  // afterId: the server replays whatever arrived since the page was loaded.
  startClient(loaded ? inbox.newestId() : undefined);
}

// checkOrigin compares the address this page was opened at with the origins
// notifyd accepts. A refused websocket upgrade cannot be read by a browser
// (it only sees the socket fail, again and again), so the page says what is
// wrong itself.
function checkOrigin(allowed) {
  originProblem = '';
  if (!Array.isArray(allowed) || allowed.length === 0 || allowed.includes(location.origin.toLowerCase())) {
    el.originWarning.hidden = true;
    return;
  }
  originProblem = `This page is open at ${location.origin}, but this notifyd only accepts pages from ` +
    `${allowed.join(', ')}: live updates and changes will be refused. Open ${allowed[0]} instead, ` +
    `or set http.public_url (or ws.allowed_origins) to ${location.origin} and restart notifyd.`;
  el.originWarning.textContent = originProblem;
  el.originWarning.hidden = false;
}

function startClient(afterId) {
  client?.close();
  client = null;
  if (!wsUrl) {
    conn.unavailable('The server did not say where its websocket is (GET /api/config has no ws_url).');
    return;
  }
  if (originProblem) {
    // The upgrade would be refused on every attempt: say why instead of
    // "Reconnecting" forever.
    conn.unavailable(originProblem);
    return;
  }
  const c = connect({ wsUrl, afterId });
  client = c;
  let greeted = false;
  c.on('status', (s) => {
    if (client !== c) return;
    conn.set(s);
    if (s.state === 'unauthorized') socketRefused();
  });
  c.on('hello', () => {
    // The list was loaded before this socket was authenticated: a change
    // made in between reached no socket of ours.
    if (!greeted) reload();
    greeted = true;
  });
  c.on('resync', () => reload());
  c.on('unread_count', (n) => live('count', n));
  c.on('notification', (m) => {
    live('notification', m.notification);
    tasks.notification(m.notification);
    if (!m.notification.read) toasts.show(m.notification);
  });
  c.on('updated', (m) => live('updated', m.notification));
  c.on('deleted', (m) => live('deleted', m.id));
  c.on('read_all', (m) => live('read_all', m.up_to_id));
  c.on('event', (ev) => tasks.event(ev));
}

function live(kind, value) {
  apply(kind, value);
  queue?.push([kind, value]);
}

function apply(kind, value) {
  switch (kind) {
    case 'count': return setUnread(value);
    case 'notification': return inbox.put(value);
    case 'updated': return inbox.update(value);
    case 'deleted': return inbox.remove(value);
    case 'read_all': return inbox.readAll(value, new Date().toISOString());
  }
}

/** reload fetches the first page and the count; true when it succeeded. */
async function reload() {
  const gen = ++reloadGen;
  queue = [];
  try {
    const [me, page] = await Promise.all([
      api('GET', '/api/me'),
      api('GET', `/api/notifications?limit=${pageSize}`),
    ]);
    if (gen !== reloadGen) return false;
    inbox.setPage(page.notifications, page.has_more);
    setUnread(me.unread_count);
    for (const [kind, value] of queue) apply(kind, value);
    el.panelError.hidden = true;
    return true;
  } catch (err) {
    if (gen === reloadGen) failed(err);
    return false;
  } finally {
    if (gen === reloadGen) queue = null;
  }
}

function setUnread(n) {
  unread = Math.max(0, Number(n) || 0);
  const text = badgeText(unread);
  el.badge.textContent = text;
  el.badge.hidden = text === '';
  el.bell.setAttribute('aria-label', unread ? `Notifications, ${unread} unread` : 'Notifications, none unread');
  el.markAll.disabled = unread === 0;
  document.title = unread ? `(${text}) notifyd` : 'notifyd';
}

function setPanel(open) {
  el.panel.hidden = !open;
  el.bell.setAttribute('aria-expanded', String(open));
  sessionStorage.setItem(panelKey, open ? 'open' : 'closed');
}

// While the socket is live its messages are the single source of truth for
// the list and the count (they arrive in order); without it, apply the
// HTTP answer and ask for the count.
function offline() {
  return client?.status.state !== 'connected';
}

async function refreshCount() {
  try {
    setUnread((await api('GET', '/api/me')).unread_count);
  } catch (err) {
    failed(err);
  }
}

// onOpen marks a clicked item read. A path opens in this tab once the read
// is stored (leaving would cancel it); the browser opens everything else
// itself: another site in a new tab, ctrl/cmd/middle clicks as asked.
function onOpen(id, link, ev) {
  const n = inbox.get(id);
  const read = n && !n.read ? setRead(id, true) : Promise.resolve();
  if (!link || link.external || !isPlainClick(ev)) return;
  ev.preventDefault();
  goAfter(read, link.href);
}

// showInPanel opens the panel at notification id (a click on its toast).
function showInPanel(id) {
  setPanel(true);
  if (!inbox.reveal(id)) el.panel.focus();
}

function onToggleRead(id) {
  const n = inbox.get(id);
  if (n) setRead(id, !n.read);
}

async function setRead(id, read) {
  try {
    const res = await api('POST', `/api/notifications/${id}/${read ? 'read' : 'unread'}`);
    if (offline()) {
      inbox.update(res.notification);
      refreshCount();
    }
  } catch (err) {
    failed(err, id);
  }
}

async function onDelete(id) {
  try {
    await api('DELETE', `/api/notifications/${id}`);
    if (offline()) {
      inbox.remove(id);
      refreshCount();
    }
  } catch (err) {
    failed(err, id);
  }
}

async function markAll() {
  const upTo = inbox.newestId();
  el.markAll.disabled = true;
  try {
    // up_to_id: a notification arriving after the user looked stays unread.
    await api('POST', '/api/notifications/read-all', upTo ? { up_to_id: upTo } : {});
    if (offline()) {
      inbox.readAll(upTo || null, new Date().toISOString());
      refreshCount();
    }
  } catch (err) {
    failed(err);
  } finally {
    el.markAll.disabled = unread === 0;
  }
}

async function loadOlder() {
  el.loadOlder.disabled = true;
  try {
    const page = await api('GET', `/api/notifications?before=${inbox.oldestId()}&limit=${pageSize}`);
    inbox.addOlder(page.notifications, page.has_more);
  } catch (err) {
    failed(err);
  } finally {
    el.loadOlder.disabled = false;
  }
}

// failed shows an API error where the user is looking; a 401 means the
// session ended, and a 404 for an item means another tab deleted it.
function failed(err, id) {
  if (!user) return;
  if (err.code === 'unauthorized') {
    leave('Your session has ended. Please log in again.');
    return;
  }
  if (err.code === 'not_found' && id !== undefined) {
    inbox.remove(id);
    return;
  }
  el.panelError.textContent = err.message;
  el.panelError.hidden = false;
  if (el.panel.hidden) {
    el.pageError.textContent = err.message;
    el.pageError.hidden = false;
  }
}

// socketRefused handles a 4401: either the session ended (logout in another
// tab, expiry) or the websocket did not get the cookie (another host).
async function socketRefused() {
  try {
    await api('GET', '/api/me');
    conn.unavailable(`The live connection at ${wsUrl} refused this session although the page is signed in: ` +
      'the page and the websocket must be served from the same host name so the session cookie reaches both. Reload to retry.');
  } catch (err) {
    if (err.code === 'unauthorized') leave('You were signed out.');
    else conn.unavailable(`The live connection was refused, and the server did not answer: ${err.message}. Reload to retry.`);
  }
}

async function logout() {
  el.logout.disabled = true;
  // Close first: the server closes this session's sockets with 4401, and
  // that must not read as "signed out elsewhere".
  client?.close();
  client = null;
  try {
    await api('DELETE', '/api/sessions/current');
    leave('');
  } catch (err) {
    if (err.code === 'unauthorized') {
      leave('');
    } else {
      el.pageError.textContent = `Could not log out: ${err.message}`;
      el.pageError.hidden = false;
      startClient(inbox.newestId());
    }
  } finally {
    el.logout.disabled = false;
  }
}

function leave(notice) {
  if (!user) return;
  user = null;
  reloadGen++;
  queue = null;
  client?.close();
  client = null;
  clearInterval(clock);
  conn.stop();
  conn.set({ state: 'connecting' });
  inbox.clear();
  toasts.clear();
  tasks.clear();
  setUnread(0);
  el.pageError.hidden = true;
  el.panelError.hidden = true;
  el.app.hidden = true;
  el.session.hidden = true;
  auth.show(notice);
}
