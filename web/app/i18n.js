// Languages: the dictionaries, the choice of language and of digits, and Intl formatting.
import en from '../i18n/en.json';
import ar from '../i18n/ar.json';

const dicts = { en, ar };
const LANG_KEY = 'tansiq.lang';
const DIGITS_KEY = 'tansiq.digits';

function stored(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function store(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // private mode: the choice lasts for this page only
  }
}

function pickLang() {
  const q = new URLSearchParams(location.search).get('lang');
  if (q === 'ar' || q === 'en') return q;
  const s = stored(LANG_KEY);
  if (s === 'ar' || s === 'en') return s;
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
  return nav.toLowerCase().startsWith('ar') ? 'ar' : 'en';
}

export let lang = pickLang();
let digits = stored(DIGITS_KEY) === 'latn' ? 'latn' : stored(DIGITS_KEY) === 'arab' ? 'arab' : null;

export function setLang(l) {
  lang = l === 'ar' ? 'ar' : 'en';
  store(LANG_KEY, lang);
  applyLang();
}

// Arabic-Indic digits are the default in Arabic; the user may ask for Latin ones.
export function digitSystem() {
  return lang === 'ar' ? digits || 'arab' : 'latn';
}

export function setDigits(d) {
  digits = d === 'latn' ? 'latn' : 'arab';
  store(DIGITS_KEY, digits);
}

export function isRtl() {
  return lang === 'ar';
}

export function applyLang() {
  const root = document.documentElement;
  root.setAttribute('lang', lang);
  root.setAttribute('dir', isRtl() ? 'rtl' : 'ltr');
}

export function locale() {
  return lang === 'ar' ? `ar-u-nu-${digitSystem()}` : 'en-GB';
}

// t("map.incidents", {n: 3}): the string for the key in the screen's language, "{n}" replaced by the
// formatted value. A missing key shows itself, which the i18n check keeps from happening.
export function t(key, vars) {
  let s = dicts[lang][key];
  if (s === undefined) s = dicts.en[key];
  if (s === undefined) return key;
  if (vars) {
    s = s.replace(/\{(\w+)\}/g, (m, name) => {
      const v = vars[name];
      if (v === undefined) return m;
      return typeof v === 'number' ? num(v) : String(v);
    });
  }
  return s;
}

// tk(prefix, value): a key built from data (an incident kind, a direction); unknown values
// are shown as they came.
export function tk(prefix, value) {
  const key = `${prefix}.${value}`;
  const s = dicts[lang][key] ?? dicts.en[key];
  return s === undefined ? String(value) : s;
}

export function num(n, opts) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '';
  return new Intl.NumberFormat(locale(), opts).format(Number(n));
}

export function dateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function dateOnly(ms) {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(d);
}
