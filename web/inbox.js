// inbox.js — the notification list of the panel: the notifications shown
// (a map by id) and a keyed renderer that updates rows in place, so keyboard
// focus survives live updates.

import { h, icon, setIcon, $ } from './dom.js';
import { relativeTime } from './format.js';
import { linkOf } from './links.js';

const styles = {
  info: { label: 'Info', icon: 'info' },
  warning: { label: 'Warning', icon: 'warning' },
  error: { label: 'Error', icon: 'error' },
};

function styleOf(n) {
  return styles[n.style] ? n.style : 'info';
}

/**
 * createInbox binds the list inside the panel element `root`.
 * Callbacks receive the notification id:
 *   onOpen (a click on the item; for an item with a url, also its Link and
 *   the click event: the item is then an <a>), onToggleRead, onDelete.
 *
 * @param {HTMLElement} root the panel.
 * @param {{onOpen: (id: number, link?: import('./links.js').Link, ev?: MouseEvent) => void, onToggleRead: (id: number) => void, onDelete: (id: number) => void, now?: () => number}} cb
 */
export function createInbox(root, cb) {
  const now = cb.now ?? Date.now;
  const list = $('list', root);
  const empty = $('empty', root);
  const older = $('load-older', root);
  let items = new Map();
  let hasMore = false;
  let loaded = false;
  const rows = new Map();

  // makeRow builds the row of notification n (its id and url never change).
  function makeRow(id, n) {
    const li = h('li', { class: 'item', dataset: { testid: 'item', id: String(id) } });
    const styleIcon = icon('info', 'icon item-icon');
    const styleText = h('span', { class: 'sr-only' });
    const title = h('span', { class: 'item-title' });
    const content = h('span', { class: 'item-content' });
    const time = h('time', { class: 'item-time' });
    const link = linkOf(n.url, location.href);
    const body = [styleIcon,
      h('span', { class: 'item-body' },
        h('span', { class: 'item-line' }, h('span', { class: 'unread-dot', 'aria-hidden': 'true' }), styleText, title,
          link?.external ? h('span', { class: 'sr-only' }, ' (opens in a new tab)') : null,
          link ? icon(link.external ? 'external' : 'arrow', 'icon item-link-icon') : null),
        content, time)];
    // An item with a url is a real link, so the browser opens it (a new tab
    // with noopener for another site); the click also marks it read.
    const main = link
      ? h('a', { class: 'item-main', href: link.href, target: link.external ? '_blank' : null, rel: link.external ? 'noopener noreferrer' : null,
        dataset: { testid: 'item-open', link: link.external ? 'external' : 'path' },
        onclick: (ev) => cb.onOpen(id, link, ev), onauxclick: (ev) => { if (ev.button === 1) cb.onOpen(id, link, ev); } }, ...body)
      : h('button', { type: 'button', class: 'item-main', dataset: { testid: 'item-open' }, onclick: () => { li.classList.toggle('expanded'); cb.onOpen(id); } }, ...body);
    const toggleIcon = icon('check');
    const toggle = h('button', { type: 'button', class: 'icon-btn', dataset: { testid: 'item-toggle-read' }, onclick: () => cb.onToggleRead(id) }, toggleIcon);
    const del = h('button', { type: 'button', class: 'icon-btn icon-btn-danger', dataset: { testid: 'item-delete' }, onclick: () => cb.onDelete(id) }, icon('trash'));
    li.append(main, h('span', { class: 'item-actions' }, toggle, del));
    return { li, styleIcon, styleText, title, content, time, toggle, toggleIcon, del };
  }

  function fill(r, n) {
    const st = styleOf(n);
    r.li.className = `item style-${st}${n.read ? '' : ' unread'}`;
    r.li.dataset.read = String(n.read);
    r.li.dataset.style = st;
    setIcon(r.styleIcon, styles[st].icon);
    r.styleText.textContent = `${styles[st].label}${n.read ? '' : ', unread'}: `;
    r.title.textContent = n.title;
    r.content.textContent = n.content;
    r.content.hidden = n.content === '';
    r.time.dateTime = n.created_at;
    r.time.title = new Date(n.created_at).toLocaleString();
    r.time.textContent = relativeTime(n.created_at, now());
    setIcon(r.toggleIcon, n.read ? 'unread' : 'check');
    r.toggle.setAttribute('aria-label', `${n.read ? 'Mark as unread' : 'Mark as read'}: ${n.title}`);
    r.toggle.title = n.read ? 'Mark as unread' : 'Mark as read';
    r.toggle.dataset.action = n.read ? 'unread' : 'read';
    r.del.setAttribute('aria-label', `Delete: ${n.title}`);
    r.del.title = 'Delete';
  }

  function render() {
    const ids = [...items.keys()].sort((a, b) => b - a);
    const focused = document.activeElement;
    let lostFocus = false;
    let focusNext;
    for (const [id, r] of rows) {
      if (items.has(id)) continue;
      if (r.li.contains(focused)) {
        lostFocus = true;
        focusNext = ids.find((x) => x < id) ?? ids[ids.length - 1];
      }
      r.li.remove();
      rows.delete(id);
    }
    let prev = null;
    for (const id of ids) {
      let r = rows.get(id);
      if (!r) {
        r = makeRow(id, items.get(id));
        rows.set(id, r);
      }
      fill(r, items.get(id));
      const want = prev ? prev.nextSibling : list.firstChild;
      if (want !== r.li) list.insertBefore(r.li, want);
      prev = r.li;
    }
    empty.hidden = !loaded || ids.length > 0;
    older.hidden = !hasMore;
    if (lostFocus) {
      // Keep keyboard users in the list when the focused item goes away:
      // on the next older item, else the newest left, else the panel.
      (focusNext !== undefined ? rows.get(focusNext).li.querySelector('.item-main') : root).focus();
    }
  }

  return {
    /** setPage replaces the list with a first page from the API. */
    setPage(page, more) {
      items = new Map(page.map((n) => [n.id, n]));
      hasMore = more;
      loaded = true;
      render();
    },
    /** addOlder appends a page loaded with ?before=. */
    addOlder(page, more) {
      for (const n of page) if (!items.has(n.id)) items.set(n.id, n);
      hasMore = more;
      render();
    },
    /** put inserts or replaces a notification (live, or an API answer). */
    put(n) {
      items.set(n.id, n);
      render();
    },
    /** update replaces a notification only when it is shown. */
    update(n) {
      if (!items.has(n.id)) return;
      items.set(n.id, n);
      render();
    },
    remove(id) {
      if (items.delete(id)) render();
    },
    /** readAll marks shown notifications read, those ≤ upTo (all when null). */
    readAll(upTo, at) {
      let changed = false;
      for (const [id, n] of items) {
        if (n.read || (upTo !== null && id > upTo)) continue;
        items.set(id, { ...n, read: true, read_at: at });
        changed = true;
      }
      if (changed) render();
    },
    get: (id) => items.get(id),
    /** reveal scrolls to a shown notification, expands and focuses it; false when it is not shown. */
    reveal(id) {
      const r = rows.get(id);
      if (!r) return false;
      r.li.classList.add('expanded');
      r.li.scrollIntoView({ block: 'nearest' });
      r.li.querySelector('.item-main').focus();
      return true;
    },
    newestId: () => (items.size ? Math.max(...items.keys()) : 0),
    oldestId: () => (items.size ? Math.min(...items.keys()) : 0),
    hasUnread: () => [...items.values()].some((n) => !n.read),
    /** refreshTimes re-renders the relative times ("2 min ago"). */
    refreshTimes() {
      const t = now();
      for (const [id, r] of rows) r.time.textContent = relativeTime(items.get(id).created_at, t);
    },
    clear() {
      items = new Map();
      hasMore = false;
      loaded = false;
      render();
    },
  };
}
