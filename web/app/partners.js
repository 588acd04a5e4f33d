// Partners and audit: each partner's sync state, the latest checkpoint of its log we cosigned,
// receipts and alarms; our own log's size and its witnesses.
import { h, clear } from './dom.js';
import { t, tk, num, dateTime } from './i18n.js';
import { api } from './api.js';

export function partnersScreen(main) {
  const nodeBox = h('section', { class: 'panel', 'aria-labelledby': 'node-h' }, h('h2', { id: 'node-h' }, t('partners.ourLog')));
  const list = h('ul', { class: 'partner-list', testid: 'partner-list' });
  const status = h('p', { class: 'muted', role: 'status' }, t('common.loading'));
  main.append(h('h1', {}, t('partners.title')), nodeBox, h('section', { 'aria-labelledby': 'partners-h' }, h('h2', { id: 'partners-h' }, t('partners.partners')), status, list));

  api('/json/partners')
    .then((r) => {
      const n = r.node || {};
      const wit = Array.isArray(n.witnesses) ? n.witnesses : [];
      nodeBox.append(
        h(
          'dl',
          { class: 'meta' },
          h('dt', {}, t('partners.origin')),
          h('dd', {}, h('code', { dir: 'ltr' }, String(n.origin || ''))),
          h('dt', {}, t('partners.logSize')),
          h('dd', { testid: 'log-size' }, num(n.log_size)),
          h('dt', {}, t('partners.checkpoint')),
          h('dd', {}, dateTime(n.checkpoint_time)),
        ),
        h('h3', {}, t('partners.witnesses')),
        wit.length
          ? h(
              'table',
              {},
              h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('partners.witness')), h('th', { scope: 'col' }, t('partners.cosignedSize')), h('th', { scope: 'col' }, t('partners.when')))),
              h(
                'tbody',
                {},
                wit.map((w) => h('tr', {}, h('td', {}, h('bdi', {}, String(w.name || ''))), h('td', {}, num(w.cosigned_size)), h('td', {}, dateTime(w.time)))),
              ),
            )
          : h('p', {}, t('partners.noWitnesses')),
      );
      const ps = Array.isArray(r.partners) ? r.partners : [];
      status.textContent = ps.length ? t('partners.count', { n: ps.length }) : t('partners.none');
      clear(list);
      for (const p of ps) {
        const state = String(p.sync_state || 'unknown');
        const c = p.cosigned || {};
        list.append(
          h(
            'li',
            { class: `partner-card state-${state.replace(/[^a-z-]/g, '')}` },
            h('h3', {}, h('bdi', {}, String(p.title || p.name || '')), ' ', h('span', { class: 'muted' }, h('bdi', { dir: 'ltr' }, String(p.name || '')))),
            h(
              'dl',
              { class: 'meta' },
              h('dt', {}, t('partners.sync')),
              h('dd', {}, h('span', { class: `badge sync-${state.replace(/[^a-z-]/g, '')}` }, tk('sync', state)), ' ', p.last_sync ? t('partners.lastSync', { time: dateTime(p.last_sync) }) : t('partners.never')),
              h('dt', {}, t('partners.objects')),
              h('dd', {}, t('partners.inOut', { in: Number(p.objects_in) || 0, out: Number(p.objects_out) || 0 })),
              h('dt', {}, t('partners.cosigned')),
              h('dd', {}, c.size !== undefined && c.size !== null ? t('partners.cosignedAt', { size: Number(c.size), time: dateTime(c.time) }) : t('partners.never')),
              h('dt', {}, t('partners.receipts')),
              h('dd', {}, num(p.receipts || 0)),
              h('dt', {}, t('partners.alarms')),
              h('dd', { class: p.alarms ? 'error' : '' }, num(p.alarms || 0)),
            ),
          ),
        );
      }
    })
    .catch(() => {
      status.textContent = t('common.loadError');
    });
}
