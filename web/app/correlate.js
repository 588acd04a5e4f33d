// Correlation: who else has seen this value (a phone number, a plate, an address, a hash).
import { h, clear } from './dom.js';
import { t, tk, dateTime } from './i18n.js';
import { api, qs } from './api.js';

export function correlateScreen(main, params) {
  const value = params.get('value') || '';
  const input = h('input', { type: 'text', id: 'corr-value', dir: 'auto', autocomplete: 'off', value });
  const out = h('section', { class: 'corr-out', 'aria-live': 'polite', 'aria-labelledby': 'corr-h' });
  main.append(
    h('h1', {}, t('correlate.title')),
    h(
      'form',
      {
        class: 'filters',
        role: 'search',
        'aria-label': t('correlate.title'),
        onsubmit: (e) => {
          e.preventDefault();
          location.hash = `#/correlate?value=${encodeURIComponent(input.value.trim())}`;
        },
      },
      h('label', { for: 'corr-value' }, t('correlate.value')),
      input,
      h('button', { type: 'submit' }, t('correlate.search')),
    ),
    out,
  );
  if (!value) return;
  out.append(h('h2', { id: 'corr-h' }, t('correlate.seenBy')), h('p', { class: 'muted' }, t('common.loading')));
  api(`/json/correlate${qs({ value })}`)
    .then((r) => {
      const seen = Array.isArray(r.seen) ? r.seen : [];
      clear(out).append(
        h('h2', { id: 'corr-h' }, t('correlate.seenBy')),
        h('p', {}, t('correlate.kind'), ' ', tk('valuekind', r.kind || ''), ' · ', h('bdi', { dir: 'ltr' }, String(r.value || value))),
        seen.length
          ? h(
              'table',
              {},
              h('thead', {}, h('tr', {}, [t('correlate.source'), t('correlate.type'), t('correlate.id'), t('correlate.added')].map((s) => h('th', { scope: 'col' }, s)))),
              h(
                'tbody',
                {},
                seen.map((s) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, h('bdi', {}, s.source ? String(s.source) : t('detail.ownNode'))),
                    h('td', {}, tk('stixtype', s.type || '')),
                    h('td', {}, h('code', { dir: 'ltr' }, String(s.id || ''))),
                    h('td', {}, dateTime(s.date_added)),
                  ),
                ),
              ),
            )
          : h('p', {}, t('correlate.none')),
        r.more ? h('p', { class: 'muted' }, t('correlate.more')) : '',
      );
    })
    .catch((e) => {
      clear(out).append(h('h2', { id: 'corr-h' }, t('correlate.seenBy')), h('p', { class: 'error', role: 'alert' }, e.status === 400 ? t('correlate.bad') : t('common.loadError')));
    });
}
