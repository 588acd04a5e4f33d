// The dashboard's dictionaries against each other and against the code: every key of
// web/i18n/en.json is in ar.json and back, every value is a non-empty string with the same
// {placeholders} in both, and every t("key") written in web/app/*.js names a key of both.
// Prints one line per failed check, then "N passed, N failed".
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2] || '.';
let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) passed++;
  else {
    failed++;
    console.log(`FAIL: ${what}`);
  }
}

function load(name) {
  const path = join(root, 'web/i18n', name);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    check(false, `${path} is not readable JSON: ${e.message}`);
    return {};
  }
}
const dicts = { en: load('en.json'), ar: load('ar.json') };
const placeholders = (s) => [...String(s).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');

for (const [a, b] of [['en', 'ar'], ['ar', 'en']]) {
  const missing = Object.keys(dicts[a]).filter((k) => !(k in dicts[b]));
  check(missing.length === 0, `keys in ${a}.json and not in ${b}.json: ${missing.join(' ')}`);
}
for (const l of ['en', 'ar']) {
  const bad = Object.entries(dicts[l]).filter(([, v]) => typeof v !== 'string' || v.trim() === '');
  check(bad.length === 0, `${l}.json values that are not non-empty strings: ${bad.map(([k]) => k).join(' ')}`);
}
const mismatched = Object.keys(dicts.en).filter((k) => k in dicts.ar && placeholders(dicts.en[k]) !== placeholders(dicts.ar[k]));
check(mismatched.length === 0, `keys whose {placeholders} differ between en and ar: ${mismatched.join(' ')}`);

// t("key") and t('key') calls, a literal first argument; comments are not stripped, so a
// comment naming a key must name a real one.
const dir = join(root, 'web/app');
const files = readdirSync(dir).filter((f) => f.endsWith('.js'));
check(files.length > 0, `no JavaScript in ${dir}`);
let uses = 0;
for (const f of files) {
  const src = readFileSync(join(dir, f), 'utf8');
  const unknown = [];
  for (const m of src.matchAll(/(?<![\w$.])t\(\s*(['"`])([^'"`]*)\1/g)) {
    uses++;
    const key = m[2];
    if (!(key in dicts.en) && !(key in dicts.ar)) unknown.push(key);
    else if (!(key in dicts.en) || !(key in dicts.ar)) unknown.push(`${key} (in one file only)`);
  }
  check(unknown.length === 0, `${f}: t() of keys in neither dictionary: ${unknown.join(' ')}`);
}
check(uses > 0, 'no t("...") call found in web/app');
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
