// tasks.js — the "start a long task" demo: the form that calls POST
// /api/tasks, and one progress bar per running task fed by task_progress
// events (data {task_id, name, progress 0..1}).

import { h, $ } from './dom.js';
import { isTaskNotification } from './format.js';

/** How long a finished bar stays if its notification does not arrive. */
const doneLingerMs = 3000;
/** A bar with no event for this long is gone (server restart, other tab's lost task). */
const staleMs = 20000;

/**
 * createTasks binds the task form and the list of progress bars.
 *
 * @param {HTMLElement} root the content section holding both.
 * @param {{api: Function, onUnauthorized: () => void}} deps
 */
export function createTasks(root, { api, onUnauthorized }) {
  const form = $('task-form', root);
  const error = $('task-error', root);
  const submit = $('task-submit', root);
  const listEl = $('tasks', root);
  const bars = new Map(); // task_id → {li, bar, pct, name, done, timer}

  function remove(id) {
    const b = bars.get(id);
    if (!b) return;
    clearTimeout(b.timer);
    b.li.remove();
    bars.delete(id);
  }

  function upsert(id, name, progress, failed = false) {
    let b = bars.get(id);
    if (!b) {
      const bar = h('progress', { max: '1', value: '0', 'aria-label': `Progress of ${name}` });
      const pct = h('span', { class: 'task-pct' });
      const li = h('li', { class: 'task', dataset: { testid: 'progress', taskId: id } },
        h('span', { class: 'task-name' }, name), pct, bar);
      listEl.append(li);
      b = { li, bar, pct, name, done: false, timer: 0 };
      bars.set(id, b);
    }
    const p = Math.min(1, Math.max(0, Number(progress) || 0));
    b.bar.value = p;
    // A failing task stops partway: its bar stays where it stopped.
    b.pct.textContent = failed ? `Failed at ${Math.round(p * 100)}%` : p >= 1 ? 'Done' : `${Math.round(p * 100)}%`;
    b.li.dataset.progress = String(p);
    b.done = failed || p >= 1;
    b.li.classList.toggle('done', b.done && !failed);
    b.li.classList.toggle('failed', failed);
    clearTimeout(b.timer);
    b.timer = setTimeout(() => remove(id), b.done ? doneLingerMs : staleMs);
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    const name = form.elements.name.value;
    const raw = form.elements.duration.value.trim();
    const body = { name, fail: form.elements.fail.checked };
    if (raw !== '') body.duration_ms = Number(raw);
    submit.disabled = true;
    try {
      const res = await api('POST', '/api/tasks', body);
      if (!bars.has(res.task.id)) upsert(res.task.id, res.task.name, 0);
    } catch (err) {
      if (err.code === 'unauthorized') return onUnauthorized();
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });

  return {
    /** enable shows the task form, or hides it when the server's demo is off (GET /api/config "tasks"). */
    enable(on) {
      form.hidden = !on;
    },
    /** event handles a live event; only task_progress is ours. */
    event(ev) {
      if (ev.type !== 'task_progress' || !ev.data || typeof ev.data.task_id !== 'string') return;
      const known = bars.get(ev.data.task_id);
      upsert(ev.data.task_id, known ? known.name : String(ev.data.name ?? 'Task'), ev.data.progress, ev.data.failed === true);
    },
    /** notification removes the bar of the task that notification n ends. */
    notification(n) {
      const match = [...bars.entries()]
        .filter(([, b]) => isTaskNotification(n, b.name))
        .sort(([, a], [, b]) => Number(b.done) - Number(a.done) || b.bar.value - a.bar.value)[0];
      if (match) remove(match[0]);
    },
    clear() {
      for (const id of [...bars.keys()]) remove(id);
      error.hidden = true;
    },
  };
}
