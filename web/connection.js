// connection.js — the connection indicator in the header: connected /
// reconnecting in Ns (a live countdown) / offline, with a tooltip that says
// what happens next.

import { $ } from './dom.js';
import { secondsLeft } from './format.js';

// reasons explains the close codes a person may see in the tooltip.
const reasons = {
  1001: 'the server restarted',
  1006: 'the connection dropped',
  1011: 'the server had a problem',
  4008: 'the connection fell behind',
  4408: 'the connection timed out',
  4429: 'too many open tabs for this account',
};

/**
 * createConnection binds the indicator element.
 *
 * @param {HTMLElement} el the [data-testid=conn-status] element.
 * @param {{wsUrl: () => string}} deps
 */
export function createConnection(el, { wsUrl }) {
  const text = $('conn-text', el);
  let ticker = 0;

  function show(state, label, tip) {
    el.dataset.state = state;
    text.textContent = label;
    el.title = tip;
  }

  return {
    /** set shows a notifyd-client status ({state, retryInMs, attempt, code}). */
    set(s) {
      clearInterval(ticker);
      ticker = 0;
      switch (s.state) {
        case 'connecting':
          show('connecting', 'Connecting…', `Connecting to live updates at ${wsUrl()}`);
          break;
        case 'connected':
          show('connected', 'Connected', 'Live: new notifications appear as they arrive.');
          break;
        case 'reconnecting': {
          const deadline = Date.now() + (s.retryInMs ?? 0);
          const why = reasons[s.code] ? `: ${reasons[s.code]}` : s.code ? ` (code ${s.code})` : '';
          const tip = `Connection lost${why}. Attempt ${s.attempt ?? 1}: notifications sent meanwhile will appear once reconnected.`;
          const tick = () => {
            const left = secondsLeft(deadline - Date.now());
            show('reconnecting', left > 0 ? `Reconnecting in ${left}s` : 'Reconnecting…', tip);
            if (left === 0) {
              clearInterval(ticker);
              ticker = 0;
            }
          };
          tick();
          ticker = setInterval(tick, 1000);
          break;
        }
        case 'offline':
          // navigator.onLine is only a hint (a loopback-only machine says
          // offline): the client keeps trying, so say so.
          show('offline', 'Offline', 'Your browser says it is offline. Still trying to reach live updates; they resume as soon as the server answers.');
          break;
        case 'unauthorized':
          show('unauthorized', 'Signed out', 'The live connection refused this session.');
          break;
        default:
          show(s.state, s.state, '');
      }
    },
    /** unavailable shows a permanent problem with the live connection. */
    unavailable(tip) {
      clearInterval(ticker);
      ticker = 0;
      show('unavailable', 'Live updates off', tip);
    },
    stop() {
      clearInterval(ticker);
      ticker = 0;
    },
  };
}
