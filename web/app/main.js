// The dashboard: language first (so the first paint is already in the right direction), then
// the session (resumed, or the login screen), the shell (header, navigation, alarm banner,
// toasts) and the screen of the hash route.
import { h, clear } from './dom.js';
import { t, lang, setLang, applyLang, isRtl, digitSystem, setDigits } from './i18n.js';
import { api, login, logout, resume, session, onSessionLost } from './api.js';
import { startLive, stopLive, setToastRegion } from './live.js';
import { alarmBanner } from './alarms.js';
import { mapScreen } from './map.js';
import { alertsScreen } from './alerts.js';
import { feedScreen } from './feed.js';
import { screenScreen } from './screening.js';
import { partnersScreen } from './partners.js';
import { correlateScreen } from './correlate.js';

applyLang();

const app = document.getElementById('app');
let config = { title: '', tile_url: null };
let cleanup = null;
let banner = null;

const SCREENS = {
  map: { nav: 'nav-map', label: () => t('nav.map'), render: (m) => mapScreen(m, config) },
  alerts: { nav: 'nav-alerts', label: () => t('nav.alerts'), render: alertsScreen },
  feed: { nav: 'nav-feed', label: () => t('nav.feed'), render: feedScreen },
  screen: { nav: 'nav-screen', label: () => t('nav.screen'), render: screenScreen },
  partners: { nav: 'nav-partners', label: () => t('nav.partners'), render: partnersScreen },
  correlate: { nav: null, label: () => t('nav.correlate'), render: correlateScreen },
};

function route() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [name, query] = raw.split('?');
  return { name: SCREENS[name] ? name : 'map', params: new URLSearchParams(query || '') };
}

function title() {
  return config.title ? String(config.title) : t('app.title');
}

function langButton() {
  const other = lang === 'ar' ? 'en' : 'ar';
  return h(
    'button',
    {
      type: 'button',
      testid: 'lang-switch',
      lang: other,
      class: 'lang-switch',
      onclick: () => {
        setLang(other);
        // ?lang= would win over the choice on the next load: drop it.
        const u = new URL(location.href);
        if (u.searchParams.has('lang')) {
          u.searchParams.delete('lang');
          history.replaceState(null, '', u.toString());
        }
        start();
      },
    },
    other === 'ar' ? 'العربية' : 'English',
  );
}

function digitsControl() {
  if (lang !== 'ar') return null;
  const sel = h(
    'select',
    { id: 'digits', onchange: (e) => (setDigits(e.target.value), start()) },
    h('option', { value: 'arab' }, t('settings.digitsArab')),
    h('option', { value: 'latn' }, t('settings.digitsLatn')),
  );
  sel.value = digitSystem();
  return h('span', { class: 'digits' }, h('label', { for: 'digits' }, t('settings.digits')), sel);
}

function loginScreen(message) {
  stopLive();
  if (banner) banner.stop();
  if (typeof cleanup === 'function') cleanup();
  cleanup = null;
  app.classList.remove('full');
  const user = h('input', { id: 'login-user', testid: 'login-user', name: 'username', autocomplete: 'username', required: true, dir: 'auto' });
  const pass = h('input', { id: 'login-password', testid: 'login-password', type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const err = h('p', { class: 'error', role: 'alert' }, message || '');
  const submit = h('button', { type: 'submit', testid: 'login-submit' }, t('login.submit'));
  document.title = `${t('login.title')} — ${title()}`;
  clear(app).append(
    h(
      'header',
      { class: 'top login-top' },
      h('p', { class: 'brand' }, title()),
      h('div', { class: 'tools' }, langButton()),
    ),
    h(
      'main',
      { id: 'main', class: 'login' },
      h(
        'form',
        {
          class: 'panel login-form',
          'aria-labelledby': 'login-h',
          onsubmit: async (e) => {
            e.preventDefault();
            submit.disabled = true;
            err.textContent = '';
            try {
              await login(user.value, pass.value);
              pass.value = '';
              shell();
            } catch (x) {
              err.textContent = x.status === 401 ? t('login.bad') : x.status === 429 ? t('login.throttled') : t('login.error');
              submit.disabled = false;
              pass.focus();
            }
          },
        },
        h('h1', { id: 'login-h' }, t('login.title')),
        h('label', { for: 'login-user' }, t('login.user')),
        user,
        h('label', { for: 'login-password' }, t('login.password')),
        pass,
        err,
        submit,
      ),
    ),
  );
  user.focus();
}

function shell() {
  const main = h('main', { id: 'main', tabindex: '-1' });
  const bannerEl = h('div', { class: 'alarm-banner', testid: 'alarm-banner', role: 'alert', hidden: true });
  const toasts = h('div', { class: 'toast', testid: 'toast', role: 'status', 'aria-live': 'polite' });
  const nav = h(
    'nav',
    { 'aria-label': t('nav.label') },
    h(
      'ul',
      {},
      Object.entries(SCREENS)
        .filter(([, s]) => s.nav)
        .map(([name, s]) => h('li', {}, h('a', { href: `#/${name}`, testid: s.nav, 'data-screen': name }, s.label()))),
    ),
  );
  clear(app).append(
    h('a', { class: 'skip', href: '#main', onclick: (e) => (e.preventDefault(), main.focus()) }, t('app.skip')),
    h(
      'header',
      { class: 'top' },
      h('p', { class: 'brand' }, title()),
      nav,
      h(
        'div',
        { class: 'tools' },
        digitsControl(),
        langButton(),
        h('span', { class: 'user' }, h('bdi', {}, String(session.user || ''))),
        h(
          'button',
          {
            type: 'button',
            testid: 'logout',
            onclick: async () => {
              try {
                await logout();
              } catch {
                // the session is gone either way
              }
              loginScreen();
            },
          },
          t('nav.logout'),
        ),
      ),
    ),
    bannerEl,
    main,
    toasts,
  );
  setToastRegion(toasts);
  if (banner) banner.stop();
  banner = alarmBanner(bannerEl);
  startLive();
  render();
}

function render() {
  const main = document.getElementById('main');
  if (!main || !session.user) return;
  if (typeof cleanup === 'function') cleanup();
  cleanup = null;
  const r = route();
  clear(main).className = `screen-${r.name}`;
  app.classList.toggle('full', r.name === 'map');
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('data-screen') === r.name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${SCREENS[r.name].label()} — ${title()}`;
  cleanup = SCREENS[r.name].render(main, r.params);
}

async function start() {
  applyLang();
  document.body.classList.toggle('rtl', isRtl());
  if (session.user) shell();
  else {
    const s = await resume();
    if (s) shell();
    else loginScreen();
  }
}

onSessionLost(() => loginScreen(t('login.expired')));
window.addEventListener('hashchange', render);

api('/json/config')
  .then((c) => {
    if (c && typeof c === 'object') config = { ...config, ...c };
  })
  .catch(() => {})
  .finally(start);
