// Alerts: the list (newest first), filters by kind and unacknowledged, acknowledgement, and
// the alerts arriving live.
import { h, clear } from './dom.js';
import { t, tk, dateTime, num } from './i18n.js';
import { api, qs, session } from './api.js';
import { onAlert } from './live.js';
import { correlateButton } from './stix.js';
import { loadDetail } from './detail.js';

const KINDS = ['border', 'governorate', 'hotspot', 'corridor', 'correlation', 'screening'];

function detailLine(a) {
  const d = a.detail && typeof a.detail === 'object' ? a.detail : {};
  const bits = [];
  if (d.adm1_en || d.adm1_ar) bits.push(h('bdi', {}, String(document.documentElement.lang === 'ar' ? d.adm1_ar || d.adm1_en : d.adm1_en || d.adm1_ar)));
  if (d.border_km !== undefined) bits.push(t('alerts.borderKm', { km: Number(d.border_km) }));
  if (d.value) bits.push(h('span', {}, h('bdi', { dir: 'ltr' }, String(d.value)), ' ', correlateButton(d.value)));
  if (d.score !== undefined) bits.push(t('alerts.score', { s: Number(d.score) }));
  if (d.object) bits.push(h('code', { dir: 'ltr' }, String(d.object)));
  return bits.length ? h('p', { class: 'alert-detail' }, bits.map((b, i) => (i ? [' · ', b] : b))) : null;
}

// The object an alert is about, shown under it on demand.
function objectToggle(a) {
  const id = a.detail && typeof a.detail === 'object' && typeof a.detail.object === 'string' ? a.detail.object : '';
  if (!id) return null;
  const box = h('div', { class: 'alert-object', hidden: true });
  const btn = h('button', { type: 'button', class: 'link', 'aria-expanded': 'false' }, t('alerts.showObject'));
  btn.addEventListener('click', () => {
    const open = box.hidden;
    box.hidden = !open;
    btn.setAttribute('aria-expanded', String(open));
    if (open && !box.firstChild) loadDetail(box, id);
  });
  return h('div', {}, btn, box);
}

export function alertsScreen(main) {
  const list = h('ul', { class: 'alert-list', testid: 'alert-list', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const kindSel = h('select', { id: 'alert-kind' }, h('option', { value: '' }, t('alerts.allKinds')), KINDS.map((k) => h('option', { value: k }, tk('alertkind', k))));
  const unacked = h('input', { type: 'checkbox', id: 'alert-unacked' });
  const status = h('p', { class: 'muted', role: 'status' });
  const more = h('button', { type: 'button', hidden: true }, t('common.more'));
  let oldest = null;
  let items = new Map();

  function matches(a) {
    if (kindSel.value && a.kind !== kindSel.value) return false;
    if (unacked.checked && a.acknowledged) return false;
    return true;
  }

  function item(a) {
    const acked = a.acknowledged;
    const ackBtn = h('button', { type: 'button', testid: 'alert-ack', class: 'ack' }, t('alerts.ack'));
    const li = h(
      'li',
      { class: `alert-item kind-${String(a.kind).replace(/[^a-z-]/g, '')}${acked ? ' acked' : ''}`, testid: 'alert-item', 'data-id': a.id },
      h(
        'div',
        { class: 'alert-head' },
        h('span', { class: 'badge' }, tk('alertkind', a.kind)),
        h('time', { datetime: String(a.time || '') }, dateTime(a.time)),
        h('span', { class: 'muted' }, `#${num(a.id)}`),
      ),
      h('p', { class: 'alert-title' }, h('bdi', {}, String(a.title || ''))),
      detailLine(a),
      objectToggle(a),
      acked
        ? h('p', { class: 'acked-by' }, t('alerts.ackedBy', { user: String(acked.by || ''), time: dateTime(acked.time) }))
        : ackBtn,
    );
    ackBtn.addEventListener('click', async () => {
      ackBtn.disabled = true;
      try {
        await api(`/json/alerts/${encodeURIComponent(a.id)}/ack`, { method: 'POST' });
        // The answer says only that it is done; the list shows who and when as the server
        // will on the next load.
        a.acknowledged = { by: session.user, time: new Date().toISOString() };
      } catch (e) {
        if (e.status === 409) {
          // someone else was first: the server knows who
          load(true);
          return;
        }
        ackBtn.disabled = false;
        status.textContent = t('alerts.ackError');
        return;
      }
      const nu = item(a);
      li.replaceWith(nu);
      items.set(a.id, nu);
      status.textContent = t('alerts.acked');
      const next = nu.nextElementSibling && nu.nextElementSibling.querySelector('button.ack');
      if (next) next.focus();
    });
    return li;
  }

  async function load(reset) {
    if (reset) {
      clear(list);
      items = new Map();
      oldest = null;
    }
    status.textContent = t('common.loading');
    try {
      const r = await api(`/json/alerts${qs({ limit: 50, before: oldest || undefined, kind: kindSel.value, unacked: unacked.checked ? 1 : undefined })}`);
      for (const a of r.alerts || []) {
        if (items.has(a.id)) continue;
        const li = item(a);
        items.set(a.id, li);
        list.append(li);
        oldest = oldest === null ? a.id : Math.min(oldest, a.id);
      }
      more.hidden = !r.more;
      status.textContent = items.size ? t('alerts.count', { n: items.size }) : t('alerts.none');
    } catch {
      status.textContent = t('common.loadError');
    }
  }

  more.addEventListener('click', () => load(false));
  kindSel.addEventListener('change', () => load(true));
  unacked.addEventListener('change', () => load(true));

  main.append(
    h('h1', {}, t('alerts.title')),
    h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': t('alerts.filters'), onsubmit: (e) => e.preventDefault() },
      h('label', { for: 'alert-kind' }, t('alerts.kind')),
      kindSel,
      h('span', { class: 'check' }, unacked, h('label', { for: 'alert-unacked' }, t('alerts.unacked'))),
    ),
    status,
    list,
    more,
  );
  load(true);

  const off = onAlert((a) => {
    if (items.has(a.id) || !matches(a)) return;
    const li = item(a);
    li.classList.add('fresh');
    items.set(a.id, li);
    list.prepend(li);
    status.textContent = t('alerts.count', { n: items.size });
  });
  return off;
}
