// format.js — pure formatting helpers of the inbox (no DOM), unit-tested in
// web/client.test.mjs.

/**
 * relativeTime renders how long ago `when` was, as a person says it:
 * "just now", "2 min ago", "3 h ago", "yesterday", "4 days ago", then a date.
 * Times slightly in the future (clock skew) read "just now".
 *
 * @param {string|number|Date} when an RFC 3339 string, epoch ms or Date.
 * @param {number} now epoch ms.
 * @returns {string}
 */
export function relativeTime(when, now) {
  const t = when instanceof Date ? when.getTime() : typeof when === 'number' ? when : Date.parse(when);
  if (Number.isNaN(t)) return '';
  const s = (now - t) / 1000;
  if (s < 45) return 'just now';
  const min = Math.round(s / 60);
  if (min < 60) return `${Math.max(1, min)} min ago`;
  const hours = Math.floor(s / 3600);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(s / 86400);
  if (days === 1) return 'yesterday';
  if (days < 7) return `${days} days ago`;
  return new Date(t).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

/**
 * badgeText is the bell badge: "" at 0 (the badge is hidden), "99+" above 99.
 *
 * @param {number} count
 * @returns {string}
 */
export function badgeText(count) {
  if (!(count > 0)) return '';
  return count > 99 ? '99+' : String(count);
}

/**
 * secondsLeft rounds a remaining delay up to whole seconds for a countdown,
 * so "reconnecting in 1s" shows until the attempt starts.
 *
 * @param {number} ms
 * @returns {number}
 */
export function secondsLeft(ms) {
  return Math.max(0, Math.ceil(ms / 1000));
}

/**
 * isTaskNotification tells whether notification n announces the end of the
 * demo task called `name`: its content starts with the quoted name, e.g.
 * `"Export" finished after 5s.`.
 *
 * @param {{title: string, content: string}} n
 * @param {string} name
 * @returns {boolean}
 */
export function isTaskNotification(n, name) {
  if (n.title !== 'Task finished' && n.title !== 'Task failed') return false;
  return n.content.startsWith(`${JSON.stringify(name)} `);
}
