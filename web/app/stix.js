// A STIX object shown readably: its properties as a definition list, timestamps through Intl,
// nested objects indented, and a "who else has seen this" button beside each observable value.
// Every value is text: a description holding markup or a javascript: URL stays a string.
import { h } from './dom.js';
import { t, tk, dateTime } from './i18n.js';

const TIME_KEYS = /(^|_)(created|modified|time|start|end|first_seen|last_seen|valid_from|valid_until|published|first_observed|last_observed|date_added)$/;
const NAMED_TYPES = new Set(['identity', 'threat-actor', 'intrusion-set', 'campaign', 'malware', 'tool']);
const OBSERVABLE_KEYS = new Set(['value', 'account_login', 'user_id', 'display_name', 'phone', 'phone_number', 'plate', 'number', 'iban', 'address']);
const SKIP = new Set(['type', 'spec_version']);
const MAX_DEPTH = 6;

export function correlateButton(value) {
  const v = String(value);
  return h(
    'button',
    {
      type: 'button',
      class: 'correlate-btn',
      title: t('correlate.who'),
      'aria-label': t('correlate.whoValue', { value: v.length > 60 ? `${v.slice(0, 60)}…` : v }),
      onclick: () => {
        location.hash = `#/correlate?value=${encodeURIComponent(v)}`;
      },
    },
    t('correlate.button'),
  );
}

// The quoted literals of a STIX pattern ([ipv4-addr:value = '198.51.100.7']).
export function patternValues(pattern) {
  const out = [];
  const re = /'((?:[^'\\]|\\.)*)'/g;
  let m;
  while ((m = re.exec(pattern)) && out.length < 20) out.push(m[1].replace(/\\(.)/g, '$1'));
  return out;
}

function scalar(key, value) {
  if (typeof value === 'boolean') return h('span', { class: 'stix-bool' }, value ? t('common.yes') : t('common.no'));
  if (typeof value === 'number') return h('span', { class: 'stix-num', dir: 'ltr' }, String(value));
  const s = String(value);
  if (TIME_KEYS.test(key) && /^\d{4}-\d\d-\d\dT/.test(s)) return h('time', { datetime: s, title: s }, dateTime(s));
  if (/^[a-z]+:\/\//i.test(s) || /^javascript:/i.test(s) || key === 'url') return h('span', { class: 'stix-url', dir: 'ltr' }, s);
  if (/--[0-9a-f-]{36}$/.test(s)) return h('code', { class: 'stix-id', dir: 'ltr' }, s);
  return h('span', { class: key === 'description' ? 'stix-text' : 'stix-str', dir: 'auto' }, s);
}

function observable(key, value, parentType) {
  if (typeof value !== 'string' || value === '') return false;
  if (OBSERVABLE_KEYS.has(key)) return true;
  if (key === 'name' && NAMED_TYPES.has(parentType)) return true;
  return false;
}

function render(key, value, depth, parentType) {
  if (value === null || value === undefined) return h('span', { class: 'stix-null' }, '—');
  if (depth > MAX_DEPTH) return h('span', {}, '…');
  if (Array.isArray(value)) {
    return h('ul', { class: 'stix-list' }, value.slice(0, 200).map((v) => h('li', {}, render(key, v, depth + 1, parentType))));
  }
  if (typeof value === 'object') return fields(value, depth + 1);
  const out = [scalar(key, value)];
  if (observable(key, value, parentType)) out.push(' ', correlateButton(value));
  if (key === 'pattern') {
    for (const v of patternValues(String(value))) {
      out.push(h('span', { class: 'stix-pattern-value' }, h('span', { dir: 'ltr' }, v), ' ', correlateButton(v)));
    }
  }
  return out;
}

function fields(obj, depth) {
  const type = typeof obj.type === 'string' ? obj.type : '';
  const dl = h('dl', { class: 'stix-fields' });
  for (const [k, v] of Object.entries(obj)) {
    if (depth === 0 && SKIP.has(k)) continue;
    let value = render(k, v, depth, type);
    if (k === 'hashes' && v && typeof v === 'object' && !Array.isArray(v)) {
      value = h(
        'dl',
        { class: 'stix-fields' },
        Object.entries(v).map(([alg, hv]) => [h('dt', {}, alg), h('dd', {}, h('code', { dir: 'ltr' }, String(hv)), ' ', correlateButton(hv))]),
      );
    }
    dl.append(h('dt', { title: k }, tk('stix', k)), h('dd', {}, value));
  }
  return dl;
}

export function stixView(obj) {
  if (!obj || typeof obj !== 'object') return h('div', { class: 'stix-view', testid: 'stix-view' }, t('common.none'));
  const title = typeof obj.name === 'string' ? obj.name : typeof obj.value === 'string' ? obj.value : obj.id || '';
  return h(
    'section',
    { class: 'stix-view', testid: 'stix-view', 'aria-label': t('stix.object') },
    h('p', { class: 'stix-head' }, h('span', { class: 'stix-type' }, tk('stixtype', obj.type || '?')), ' ', h('bdi', { class: 'stix-title', dir: 'auto' }, String(title))),
    fields(obj, 0),
  );
}

export function tlpBadge(tlp) {
  const v = String(tlp || 'none').toLowerCase().replace(/^tlp:/, '');
  const cls = ['clear', 'white', 'green', 'amber', 'amber+strict', 'red'].includes(v) ? v.replace('+strict', '-strict') : 'none';
  return h('span', { class: `tlp tlp-${cls}` }, v === 'none' ? t('tlp.none') : `TLP:${v.toUpperCase()}`);
}
