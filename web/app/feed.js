// The shared feed: what arrived from which partner and what was released to whom, over time,
// with search; a chosen object is shown with its detail and STIX.
import { h, svg, clear, debounce } from './dom.js';
import { t, tk, dateTime, dateOnly, isRtl } from './i18n.js';
import { api, qs } from './api.js';
import { loadDetail } from './detail.js';
import { tlpBadge } from './stix.js';

function histogram(el, hs) {
  clear(el);
  const series = Array.isArray(hs && hs.series) ? hs.series : [];
  let n = 0;
  for (const s of series) n = Math.max(n, (s.counts || []).length);
  if (!n) return;
  const inc = new Array(n).fill(0);
  const out = new Array(n).fill(0);
  for (const s of series) (s.counts || []).forEach((c, i) => ((s.direction === 'out' ? out : inc)[i] += Number(c) || 0));
  const max = Math.max(1, ...inc, ...out);
  const w = 300 / n;
  for (let i = 0; i < n; i++) {
    const x = (isRtl() ? n - 1 - i : i) * w + w * 0.1;
    const hi = (inc[i] / max) * 38;
    const ho = (out[i] / max) * 38;
    el.append(svg('rect', { x, y: 40 - hi, width: Math.max(0.5, w * 0.8), height: hi, class: 'bar in-bar' }));
    el.append(svg('rect', { x, y: 40, width: Math.max(0.5, w * 0.8), height: ho, class: 'bar out-bar' }));
  }
  el.append(svg('line', { x1: 0, x2: 300, y1: 40, y2: 40, class: 'axis' }));
  const start = Date.parse(hs.start);
  const label = t('feed.histLabel', {
    from: dateOnly(start),
    to: dateOnly(start + n * (hs.bin_s || 86400) * 1000),
    in: inc.reduce((a, b) => a + b, 0),
    out: out.reduce((a, b) => a + b, 0),
  });
  el.setAttribute('aria-label', label);
}

export function feedScreen(main) {
  const search = h('input', { type: 'search', id: 'feed-q', testid: 'feed-search', dir: 'auto', autocomplete: 'off' });
  const dirSel = h(
    'select',
    { id: 'feed-dir' },
    h('option', { value: '' }, t('feed.both')),
    h('option', { value: 'in' }, t('feed.in')),
    h('option', { value: 'out' }, t('feed.out')),
  );
  const partner = h('input', { type: 'text', id: 'feed-partner', dir: 'auto', autocomplete: 'off' });
  const list = h('ul', { class: 'feed-list', testid: 'feed-list' });
  const status = h('p', { class: 'muted', role: 'status' });
  const more = h('button', { type: 'button', hidden: true }, t('common.more'));
  const hist = svg('svg', { class: 'histogram feed-hist', role: 'img', viewBox: '0 0 300 80', preserveAspectRatio: 'none', 'aria-label': t('feed.hist') });
  const detail = h('section', { class: 'panel feed-detail', 'aria-labelledby': 'feed-detail-h', hidden: true });
  let next = null;
  let seq = 0;

  function row(it) {
    const btn = h(
      'button',
      { type: 'button', class: 'feed-item' },
      h('span', { class: `dir dir-${it.direction === 'out' ? 'out' : 'in'}` }, tk('feed', it.direction === 'out' ? 'outShort' : 'inShort')),
      h('span', { class: 'feed-main' }, h('bdi', { class: 'feed-name', dir: 'auto' }, String(it.name || it.id || '')), h('span', { class: 'muted' }, tk('stixtype', it.type || ''))),
      h('span', { class: 'feed-partner' }, it.direction === 'out' ? t('feed.to') : t('feed.from'), ' ', h('bdi', {}, String(it.partner || ''))),
      tlpBadge(it.tlp),
      h('time', { datetime: String(it.time || '') }, dateTime(it.time)),
    );
    btn.addEventListener('click', () => {
      detail.hidden = false;
      const body = h('div', {});
      clear(detail).append(
        h('div', { class: 'panel-head' }, h('h2', { id: 'feed-detail-h', tabindex: '-1' }, t('feed.detail')), h('button', { type: 'button', class: 'close', 'aria-label': t('common.close'), onclick: () => (detail.hidden = true) }, '×')),
        body,
      );
      detail.querySelector('h2').focus();
      loadDetail(body, String(it.id));
    });
    return h('li', {}, btn);
  }

  async function load(reset) {
    const my = ++seq;
    if (reset) next = null;
    const params = { q: search.value.trim(), direction: dirSel.value, partner: partner.value.trim(), limit: 50, next: reset ? undefined : next };
    status.textContent = t('common.loading');
    try {
      const r = await api(`/json/feed${qs(params)}`);
      if (my !== seq) return;
      if (reset) clear(list);
      for (const it of r.items || []) list.append(row(it));
      next = r.next || null;
      more.hidden = !next;
      status.textContent = list.children.length ? t('feed.count', { n: list.children.length }) : t('feed.none');
    } catch {
      if (my === seq) status.textContent = t('common.loadError');
    }
  }
  const loadSoon = debounce(() => load(true), 250);
  search.addEventListener('input', loadSoon);
  partner.addEventListener('input', loadSoon);
  dirSel.addEventListener('change', () => load(true));
  more.addEventListener('click', () => load(false));

  main.append(
    h('h1', {}, t('feed.title')),
    h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': t('feed.filters'), onsubmit: (e) => (e.preventDefault(), load(true)) },
      h('label', { for: 'feed-q' }, t('feed.search')),
      search,
      h('label', { for: 'feed-dir' }, t('feed.direction')),
      dirSel,
      h('label', { for: 'feed-partner' }, t('feed.partner')),
      partner,
    ),
    h('div', { class: 'feed-layout' }, h('div', {}, h('figure', { class: 'hist-figure' }, hist, h('figcaption', { class: 'legend' }, h('span', { class: 'key in-key' }, t('feed.in')), ' ', h('span', { class: 'key out-key' }, t('feed.out')))), status, list, more), detail),
  );
  api('/json/feed/histogram')
    .then((hs) => histogram(hist, hs))
    .catch(() => {});
  load(true);
}
