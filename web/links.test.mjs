// Unit tests of where an inbox item leads (links.js): node --test web/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkOf, isPlainClick, goAfter } from './links.js';

const base = 'http://localhost:8000/';

test('linkOf: paths stay in the tab, http(s) URLs open a new one', () => {
  const cases = [
    ['/capsules/42', { href: '/capsules/42', external: false }],
    ['/search?q=a b#top', { href: '/search?q=a b#top', external: false }],
    ['https://app.example/invoices/7', { href: 'https://app.example/invoices/7', external: true }],
    ['HTTP://App.Example', { href: 'http://app.example/', external: true }],
    ['http://localhost:8000/same-site', { href: 'http://localhost:8000/same-site', external: true }],
  ];
  for (const [url, want] of cases) assert.deepEqual(linkOf(url, base), want, url);
});

test('linkOf refuses everything the API refuses, even if it got stored', () => {
  const refused = [
    null, undefined, '', 42, { href: '/x' },
    'javascript:alert(1)', 'JavaScript:alert(1)', ' javascript:alert(1)', 'java\tscript:alert(1)',
    'data:text/html,<script>alert(1)</script>', 'vbscript:msgbox(1)', 'file:///etc/passwd',
    '//evil.example/x', '/\\evil.example/x', '/ok\\..', 'http:evil', 'https:/evil', 'http://', 'https:///path',
    'relative/path', '?q=1', '#top', 'mailto:a@b.example',
    '/line\nbreak', '/nul\u0000', '/c1\u0085',
    `/${'a'.repeat(2048)}`,
  ];
  for (const url of refused) assert.equal(linkOf(url, base), null, JSON.stringify(url));
  assert.notEqual(linkOf(`/${'a'.repeat(2047)}`, base), null, '2048 characters are fine');
});

test('isPlainClick leaves new-tab clicks to the browser', () => {
  const click = (over = {}) => ({ button: 0, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...over });
  assert.equal(isPlainClick(click()), true);
  for (const over of [{ button: 1 }, { ctrlKey: true }, { metaKey: true }, { shiftKey: true }, { altKey: true }]) {
    assert.equal(isPlainClick(click(over)), false, JSON.stringify(over));
  }
});

test('goAfter navigates once the request settles, failed or not, or after the timeout', async () => {
  const went = [];
  const assign = (href) => went.push(href);
  let finish;
  const pending = goAfter(new Promise((resolve) => { finish = resolve; }), '/a', { assign });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(went, [], 'not before the read is stored');
  finish();
  await pending;
  await goAfter(Promise.reject(new Error('offline')), '/b', { assign });
  await goAfter(new Promise(() => {}), '/c', { assign, timeoutMs: 10 });
  assert.deepEqual(went, ['/a', '/b', '/c']);
});
