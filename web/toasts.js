// toasts.js — a short-lived card for every live notification, in an
// aria-live="polite" region so screen readers announce it without
// interrupting. A toast pauses while hovered or focused; a click on it
// opens its notification in the panel.

import { h, icon } from './dom.js';

const iconOf = { info: 'info', warning: 'warning', error: 'error' };

/**
 * createToasts binds the live region.
 *
 * @param {HTMLElement} region
 * @param {{timeoutMs?: number, max?: number, onOpen?: (id: number) => void}} [opts]
 *   timeoutMs: auto-dismiss delay (5 s); max: toasts shown at once (4) — a
 *   burst after a long outage must not bury the page; onOpen: a click on a
 *   toast (it is dismissed).
 */
export function createToasts(region, { timeoutMs = 5000, max = 4, onOpen = () => {} } = {}) {
  function dismiss(el) {
    clearTimeout(el._timer);
    if (!el.isConnected) return;
    const hadFocus = el.contains(document.activeElement);
    el.remove();
    if (hadFocus) document.getElementById('main')?.focus();
  }

  function arm(el) {
    clearTimeout(el._timer);
    el._timer = setTimeout(() => dismiss(el), timeoutMs);
  }

  return {
    /** show adds a toast for notification n. */
    show(n) {
      const style = iconOf[n.style] ? n.style : 'info';
      const close = h('button', { type: 'button', class: 'icon-btn toast-close', dataset: { testid: 'toast-dismiss' }, 'aria-label': `Dismiss: ${n.title}`, title: 'Dismiss' }, icon('close'));
      const el = h('div', { class: `toast style-${style}`, dataset: { testid: 'toast', id: String(n.id), style } },
        icon(iconOf[style], 'icon toast-icon'),
        h('button', { type: 'button', class: 'toast-body', dataset: { testid: 'toast-open' }, title: 'Show in the notifications', onclick: () => { dismiss(el); onOpen(n.id); } },
          h('strong', { class: 'toast-title' }, n.title),
          n.content ? h('span', { class: 'toast-content' }, n.content) : null),
        close);
      close.addEventListener('click', () => dismiss(el));
      el.addEventListener('mouseenter', () => clearTimeout(el._timer));
      el.addEventListener('mouseleave', () => { if (!el.contains(document.activeElement)) arm(el); });
      el.addEventListener('focusin', () => clearTimeout(el._timer));
      el.addEventListener('focusout', (ev) => { if (!el.contains(ev.relatedTarget)) arm(el); });
      region.append(el);
      while (region.children.length > max) dismiss(region.firstElementChild);
      arm(el);
    },
    /** clear removes every toast (logout). */
    clear() {
      for (const el of [...region.children]) dismiss(el);
    },
  };
}
