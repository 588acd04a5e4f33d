// Screening: one name in any script, ranked candidates with the explanation of each matched
// part, and a CSV batch uploaded in parts so that both the upload and the processing show
// their progress.
import { h, clear } from './dom.js';
import { t, tk, num } from './i18n.js';
import { api, qs, postWithProgress } from './api.js';

const BATCH_ROWS = 500; // rows per request: progress steps, and well under the 10,000-row cap

function pct(x) {
  return num(x, { style: 'percent', maximumFractionDigits: 0 });
}

function explain(e) {
  if (!e || !Array.isArray(e.tokens)) return null;
  return h(
    'table',
    { class: 'explain' },
    h('caption', {}, t('screen.explainCaption')),
    h('thead', {}, h('tr', {}, [t('screen.colQuery'), t('screen.colListed'), t('screen.colRole'), t('screen.colHow'), t('screen.colSim'), t('screen.colPenalty')].map((s) => h('th', { scope: 'col' }, s)))),
    h(
      'tbody',
      {},
      e.tokens.map((tok) =>
        h(
          'tr',
          {},
          h('td', {}, h('bdi', {}, tok.a == null ? '—' : String(tok.a))),
          h('td', {}, h('bdi', {}, tok.b == null ? '—' : String(tok.b))),
          h('td', {}, tk('role', tok.a_role || tok.b_role || 'given')),
          h('td', {}, tk('how', tok.how || '')),
          h('td', {}, pct(tok.sim)),
          h('td', {}, tok.penalty ? num(tok.penalty, { maximumFractionDigits: 2 }) : '—'),
        ),
      ),
    ),
  );
}

function hitItem(hit, i) {
  const e = hit.explain || {};
  return h(
    'li',
    { class: 'hit' },
    h(
      'div',
      { class: 'hit-head' },
      h('span', { class: 'rank' }, num(i + 1)),
      h('bdi', { class: 'hit-name' }, String(hit.name || '')),
      h('meter', { min: 0, max: 1, value: Number(hit.score) || 0, 'aria-label': t('screen.score') }),
      h('strong', {}, pct(hit.score)),
    ),
    h(
      'dl',
      { class: 'meta' },
      h('dt', {}, t('screen.primary')),
      h('dd', {}, h('bdi', {}, String(hit.primary || ''))),
      h('dt', {}, t('screen.list')),
      h('dd', {}, h('bdi', {}, `${hit.list || ''} / ${hit.ref || ''}`)),
      h('dt', {}, t('screen.dob')),
      h('dd', {}, String(hit.dob || '—'), ' (', tk('agree', e.dob || 'unknown'), ')'),
      h('dt', {}, t('screen.nationality')),
      h('dd', {}, String(hit.nationality || '—'), ' (', tk('agree', e.nationality || 'unknown'), ')'),
      h('dt', {}, t('screen.quality')),
      h('dd', {}, tk('quality', hit.quality || '')),
    ),
    explain(e),
  );
}

// CSV records, quotes respected (a quoted field may hold a newline).
export function csvRecords(text) {
  const out = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\n' && !quoted) {
      out.push(text.slice(start, i).replace(/\r$/, ''));
      start = i + 1;
    }
  }
  if (start < text.length) out.push(text.slice(start).replace(/\r$/, ''));
  return out.filter((r) => r.trim() !== '');
}

export function screenScreen(main) {
  const input = h('input', { type: 'text', id: 'screen-name', testid: 'screen-input', dir: 'auto', autocomplete: 'off', required: true });
  const submit = h('button', { type: 'submit', testid: 'screen-submit' }, t('screen.submit'));
  const results = h('section', { class: 'screen-results', testid: 'screen-results', 'aria-live': 'polite', 'aria-labelledby': 'screen-results-h' }, h('h2', { id: 'screen-results-h' }, t('screen.results')));
  const file = h('input', { type: 'file', id: 'screen-file', testid: 'screen-batch-file', accept: '.csv,text/csv', class: 'file-input' });
  const fileName = h('span', { class: 'muted file-name' }, t('screen.noFile'));
  const progress = h('progress', { testid: 'screen-batch-progress', id: 'screen-progress', max: 100, value: 0, 'aria-label': t('screen.progress') });
  const progressText = h('p', { class: 'muted', role: 'status' });
  const batchOut = h('div', { class: 'batch-out' });

  async function run(e) {
    e.preventDefault();
    const name = input.value.trim();
    if (!name) return;
    submit.disabled = true;
    clear(results).append(h('h2', { id: 'screen-results-h' }, t('screen.results')), h('p', { class: 'muted' }, t('common.loading')));
    try {
      const r = await api(`/json/screen${qs({ name, limit: 10 })}`);
      const hits = r.hits || [];
      clear(results).append(
        h('h2', { id: 'screen-results-h' }, t('screen.results')),
        h('p', {}, t('screen.normal'), ' ', h('bdi', { class: 'normal' }, String((r.query && r.query.normal) || '')), ' · ', t('screen.lists', { n: Number(r.lists) || 0 })),
        hits.length ? h('ol', { class: 'hits' }, hits.map(hitItem)) : h('p', {}, t('screen.noHits')),
      );
    } catch (err) {
      clear(results).append(h('h2', { id: 'screen-results-h' }, t('screen.results')), h('p', { class: 'error', role: 'alert' }, t('screen.error'), err.message ? ` (${err.message})` : ''));
    } finally {
      submit.disabled = false;
    }
  }

  async function batch() {
    const f = file.files && file.files[0];
    if (!f) return;
    fileName.textContent = f.name;
    clear(batchOut);
    progress.value = 0;
    const text = await f.text();
    const records = csvRecords(text);
    if (records.length < 2) {
      progressText.textContent = t('screen.batchEmpty');
      return;
    }
    const header = records[0];
    const rows = records.slice(1);
    const parts = Math.ceil(rows.length / BATCH_ROWS);
    const summary = { rows: 0, screened: 0, failed: 0, with_hits: 0, hits: 0 };
    const found = [];
    for (let p = 0; p < parts; p++) {
      const chunk = rows.slice(p * BATCH_ROWS, (p + 1) * BATCH_ROWS);
      const body = `${header}\n${chunk.join('\n')}\n`;
      const base = p * BATCH_ROWS;
      try {
        const r = await postWithProgress('/json/screen/batch', body, 'text/csv; charset=utf-8', (sent, total) => {
          const frac = total ? sent / total : 0;
          progress.value = ((base + frac * chunk.length * 0.5) / rows.length) * 100;
          progressText.textContent = t('screen.uploading', { done: base, total: rows.length });
        });
        for (const k of Object.keys(summary)) summary[k] += Number((r.summary || {})[k]) || 0;
        for (const row of r.rows || []) {
          const hits = row.result && Array.isArray(row.result.hits) ? row.result.hits : [];
          if (hits.length || row.error) found.push({ row: base + Number(row.row || 0), id: row.id, hits, error: row.error });
        }
      } catch (err) {
        progressText.textContent = t('screen.batchError', { part: p + 1 });
        summary.failed += chunk.length;
      }
      progress.value = ((base + chunk.length) / rows.length) * 100;
      progressText.textContent = t('screen.processed', { done: Math.min(rows.length, base + chunk.length), total: rows.length });
    }
    batchOut.append(
      h('p', {}, t('screen.batchSummary', summary)),
      found.length
        ? h(
            'table',
            { class: 'batch-table' },
            h('caption', {}, t('screen.batchHits')),
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('screen.row')), h('th', { scope: 'col' }, t('screen.id')), h('th', { scope: 'col' }, t('screen.best')))),
            h(
              'tbody',
              {},
              found.slice(0, 500).map((r) =>
                h(
                  'tr',
                  {},
                  h('td', {}, num(r.row)),
                  h('td', {}, h('bdi', {}, String(r.id || ''))),
                  h('td', {}, r.error ? h('span', { class: 'error' }, String(r.error)) : [h('bdi', {}, String(r.hits[0].name || '')), ' ', pct(r.hits[0].score)]),
                ),
              ),
            ),
          )
        : '',
    );
  }

  main.append(
    h('h1', {}, t('screen.title')),
    h(
      'form',
      { class: 'screen-form', role: 'search', 'aria-label': t('screen.title'), onsubmit: run },
      h('label', { for: 'screen-name' }, t('screen.nameLabel')),
      h('div', { class: 'row' }, input, submit),
      h('p', { class: 'muted hint' }, t('screen.hint')),
    ),
    results,
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'batch-h' },
      h('h2', { id: 'batch-h' }, t('screen.batch')),
      h('p', { class: 'muted' }, t('screen.batchHint')),
      // the browser's own file button speaks the browser's language: a label of ours instead
      h('div', { class: 'row' }, file, h('label', { for: 'screen-file', class: 'button' }, t('screen.file')), fileName),
      h('div', { class: 'row' }, h('label', { for: 'screen-progress' }, t('screen.progress')), progress),
      progressText,
      batchOut,
    ),
  );
  file.addEventListener('change', batch);
}
