// browser.ts — compiled with the DOM library only (tsconfig.json): the
// browser's own WebSocket, timers and window fit ClientEnv, so a test can
// wrap or replace any one of them.

import { connect } from 'notifyd-client';
import type { ClientEnv } from 'notifyd-client';

const browser: ClientEnv = {
  WebSocket,
  setTimeout: (fn, ms) => window.setTimeout(fn, ms),
  clearTimeout: (handle) => window.clearTimeout(handle as number),
  setInterval: (fn, ms) => window.setInterval(fn, ms),
  clearInterval: (handle) => window.clearInterval(handle as number),
  now: Date.now,
  random: Math.random,
  isOnline: () => navigator.onLine,
  addEventListener: window.addEventListener.bind(window),
  removeEventListener: window.removeEventListener.bind(window),
};

// A subclass of the browser's WebSocket, as web/client.integration.test.mjs uses.
class RecordingWebSocket extends WebSocket {
  frames: string[] = [];
  override send(data: string): void {
    this.frames.push(data);
    super.send(data);
  }
}

export const client = connect({ wsUrl: `wss://${location.host}/ws`, env: { ...browser, WebSocket: RecordingWebSocket } });
