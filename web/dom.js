// dom.js — tiny DOM helpers. Text always goes through text nodes: titles and
// contents come from publishers and users, so innerHTML is never used.

const svgNS = 'http://www.w3.org/2000/svg';

/**
 * h creates an element. attrs: "class" sets className, "dataset" an object of
 * data-* values, keys starting with "on" add listeners, `true` sets a boolean
 * attribute, `false`/null/undefined skip it, anything else is setAttribute.
 * Children are nodes or strings (as text).
 *
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

/**
 * icon returns an <svg> that uses the sprite symbol "#i-<name>" of
 * index.html; decorative, so hidden from assistive technology.
 *
 * @param {string} name
 * @param {string} [cls]
 * @returns {SVGSVGElement}
 */
export function icon(name, cls = 'icon') {
  const svg = document.createElementNS(svgNS, 'svg');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const use = document.createElementNS(svgNS, 'use');
  use.setAttribute('href', `#i-${name}`);
  svg.append(use);
  return svg;
}

/**
 * setIcon points an icon made by icon() at another symbol.
 *
 * @param {SVGSVGElement} svg
 * @param {string} name
 */
export function setIcon(svg, name) {
  svg.firstElementChild.setAttribute('href', `#i-${name}`);
}

/**
 * $ finds the element with data-testid `id` under root (document by default);
 * the test ids double as the page's stable hooks.
 *
 * @param {string} id
 * @param {ParentNode} [root]
 * @returns {HTMLElement}
 */
export function $(id, root = document) {
  const el = root.querySelector(`[data-testid="${id}"]`);
  if (!el) throw new Error(`missing element [data-testid="${id}"]`);
  return el;
}
