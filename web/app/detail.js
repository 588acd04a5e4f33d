// One object's detail: where it came from, its TLP, who it was released to and why, the proof
// of release to download, and the object itself.
import { h, clear, append } from './dom.js';
import { t, dateTime } from './i18n.js';
import { api } from './api.js';
import { stixView, tlpBadge } from './stix.js';

export function objectDetail(rec) {
  const released = Array.isArray(rec.released_to) ? rec.released_to : [];
  const id = rec.object && rec.object.id ? String(rec.object.id) : '';
  return [
    h(
      'dl',
      { class: 'meta' },
      h('dt', {}, t('detail.source')),
      h('dd', {}, h('bdi', {}, rec.source ? String(rec.source) : t('detail.ownNode'))),
      h('dt', {}, t('detail.tlp')),
      h('dd', {}, tlpBadge(rec.tlp)),
      h('dt', {}, t('detail.collection')),
      h('dd', {}, h('code', { dir: 'ltr' }, String(rec.collection || ''))),
      h('dt', {}, t('detail.added')),
      h('dd', {}, dateTime(rec.date_added)),
    ),
    h('h3', {}, t('detail.releasedTo')),
    released.length
      ? h(
          'ul',
          { class: 'released' },
          released.map((r) =>
            h(
              'li',
              { class: r.released ? 'rel-yes' : 'rel-no' },
              h('bdi', { class: 'partner' }, String(r.partner || '')),
              ' — ',
              h('strong', {}, r.released ? t('detail.released') : t('detail.withheld')),
              r.why ? h('span', { class: 'why' }, ': ', h('bdi', {}, String(r.why))) : null,
            ),
          ),
        )
      : h('p', {}, t('detail.noPartners')),
    id
      ? h('p', {}, h('a', { class: 'button', href: `/json/objects/${encodeURIComponent(id)}/proof`, download: `${id}.proof` }, t('detail.proof')))
      : null,
    stixView(rec.object),
  ];
}

// Fills container with the detail of object id (loading and error states included).
export async function loadDetail(container, id, fallback) {
  clear(container).append(h('p', { class: 'muted', role: 'status' }, t('common.loading')));
  try {
    const rec = await api(`/json/objects/${encodeURIComponent(id)}`);
    append(clear(container), objectDetail(rec));
  } catch (e) {
    clear(container).append(h('p', { class: 'error', role: 'alert' }, t('detail.error'), ' ', e.status ? `(${e.status})` : ''));
    if (fallback) container.append(stixView(fallback));
  }
}
