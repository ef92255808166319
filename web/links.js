// links.js — where a notification leads when clicked. The API accepts only
// an absolute http(s) URL or a path starting with a single "/" (see
// notify/link.go); the page checks again, so a row written around the API
// (a restored backup, a manual INSERT) can never become a javascript: link.
// No DOM here: the node tests import it.

/** The longest url the API accepts (characters here, bytes there). */
const maxUrlLength = 2048;

/**
 * @typedef {object} Link
 * @property {string} href what goes into the <a href>.
 * @property {boolean} external an absolute URL, opened in a new tab; else a
 *   path on this site, opened in the same tab.
 */

/**
 * linkOf returns where a notification's url leads, or null when it has none
 * or it is not one the API would accept.
 *
 * @param {unknown} url the notification's url (null when it has none).
 * @param {string} base the page's URL (location.href): a path must stay on
 *   its origin.
 * @returns {Link|null}
 */
export function linkOf(url, base) {
  if (typeof url !== 'string' || url === '' || url.length > maxUrlLength) return null;
  // Control characters, and the backslash browsers read as "/" ("/\host").
  if (/[\u0000-\u001f\u007f-\u009f\\]/.test(url)) return null;
  let u;
  try {
    u = new URL(url, base);
  } catch {
    return null;
  }
  if (url.startsWith('/')) {
    if (url.startsWith('//') || u.origin !== new URL(base).origin) return null;
    return { href: url, external: false };
  }
  // Only "http://…" and "https://…": not "http:relative", not any other scheme.
  if (!/^https?:\/\/[^/]/i.test(url) || (u.protocol !== 'http:' && u.protocol !== 'https:')) return null;
  return { href: u.href, external: true };
}

/**
 * isPlainClick tells a plain primary click (or Enter) from one that asks the
 * browser for a new tab or window (ctrl, cmd, shift, middle button), which
 * the page leaves to the browser.
 *
 * @param {MouseEvent} ev
 * @returns {boolean}
 */
export function isPlainClick(ev) {
  return ev.button === 0 && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey && !ev.altKey;
}

/**
 * goAfter navigates this tab to href once `before` settles, or after
 * timeoutMs (2 s) at the latest: leaving the page would cancel a request
 * still in flight (marking the notification read), and a hung server must
 * not keep the person from going where they clicked.
 *
 * @param {Promise<unknown>} before
 * @param {string} href
 * @param {{timeoutMs?: number, assign?: (href: string) => void}} [opts]
 * @returns {Promise<void>}
 */
export async function goAfter(before, href, { timeoutMs = 2000, assign = (to) => location.assign(to) } = {}) {
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs); });
  try {
    await Promise.race([before.catch(() => {}), late]);
  } finally {
    clearTimeout(timer);
  }
  assign(href);
}
