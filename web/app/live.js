// The live stream of alerts (GET /events/) for the whole page: toasts on any screen, and the
// alerts screen's list. EventSource reconnects by itself sending Last-Event-ID; when the
// browser gives up (the server answered an error) we open a new one with ?after= the last id.
import { h } from './dom.js';
import { t, tk } from './i18n.js';

let source = null;
let lastId = 0;
let retry = 0;
let stopped = true;
const listeners = new Set();
let toastRegion = null;

export function onAlert(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function setToastRegion(el) {
  toastRegion = el;
}

export function toast(text, kind) {
  if (!toastRegion) return;
  const item = h('div', { class: `toast-item ${kind || ''}` }, h('bdi', {}, text));
  toastRegion.append(item);
  setTimeout(() => item.remove(), 8000);
  while (toastRegion.children.length > 4) toastRegion.firstChild.remove();
}

function open() {
  if (stopped) return;
  source = new EventSource(lastId ? `/events/?after=${lastId}` : '/events/');
  source.addEventListener('open', () => {
    retry = 0;
  });
  source.addEventListener('alert', (e) => {
    let a;
    try {
      a = JSON.parse(e.data);
    } catch {
      return;
    }
    const id = Number(e.lastEventId || a.id) || 0;
    if (id && id <= lastId) return;
    if (id) lastId = id;
    toast(`${t('alerts.new')} — ${tk('alertkind', a.kind)}: ${a.title || ''}`, 'alert');
    for (const fn of listeners) fn(a);
  });
  source.addEventListener('error', () => {
    if (source && source.readyState === EventSource.CLOSED) {
      source = null;
      retry = Math.min(retry + 1, 6);
      setTimeout(open, 1000 * 2 ** retry);
    }
  });
}

export function startLive(afterId) {
  stopLive();
  stopped = false;
  if (afterId) lastId = Math.max(lastId, afterId);
  open();
}

export function stopLive() {
  stopped = true;
  if (source) source.close();
  source = null;
}

export function noteSeen(id) {
  if (id > lastId) lastId = id;
}
