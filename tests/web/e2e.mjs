// tests/web/e2e.mjs - the dashboard in Chromium against a real node (tests/web/run.sh prepares
// the home and the partner's alarm). Usage:
//   node tests/web/e2e.mjs --tansiq BIN --home HOME --work DIR --out DIR --alarm SCRIPT
// Prints "ok NAME" or "FAIL NAME: why" for each check, then "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { serve, launch, login, USER } from './lib.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const opt = {};
for (let i = 2; i < process.argv.length; i += 2) opt[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const OUT = opt.out;
mkdirSync(OUT, { recursive: true });

let passed = 0;
let failed = 0;
function ok(name) {
  passed++;
  console.log(`ok ${name}`);
}
function fail(name, why) {
  failed++;
  console.log(`FAIL ${name}: ${String(why).replace(/\s+/g, ' ').slice(0, 600)}`);
}
async function check(name, fn) {
  try {
    await fn();
    ok(name);
  } catch (e) {
    fail(name, e && e.message ? e.message : e);
  }
}
function assert(cond, why) {
  if (!cond) throw new Error(why);
}

function tq(...args) {
  const r = spawnSync(opt.tansiq, [...args, '--home', opt.home], { encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) throw new Error(`tansiq ${args.join(' ')}: exit ${r.status}: ${(r.stderr || '').slice(-400)}`);
  return r.stdout;
}

// The newest alert: { id, title, detail }.
function newestAlert() {
  return JSON.parse(tq('alert', 'list', '--json', '--limit', '1'))[0];
}

function csvField(v) {
  return `"${String(v).replace(/"/g, '""')}"`;
}

// A seizure a few hundred metres from the border at al-Qaim, now: the rule seizure-near-border
// (10 km) raises an alert for it as it is stored. Returns that alert.
let seizures = 0;
function seizureNearBorder(name = `live seizure ${seizures + 1}`, description = '') {
  seizures++;
  const csv = join(opt.work, `seizure-${seizures}.csv`);
  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  writeFileSync(csv, `latitude,longitude,time,kind,name,description\n34.392,40.985,${when},seizure,${csvField(name)},${csvField(description)}\n`);
  const before = newestAlert();
  tq('events', 'import', csv, '--format', 'csv');
  const a = newestAlert();
  if (!a || (before && a.id === before.id)) throw new Error(`no alert for the seizure ${name}`);
  return a;
}

// ---- what may fail on the page -------------------------------------------------------------
// Each entry: a request the page makes that is allowed to answer this status. None is: every
// route the page asks for answers, signed in or out.
const ALLOWED = [];
let outage = false; // the stream is dropped on purpose: its failure is expected
const problems = [];
const allowedUrls = new Set();

function allowed(method, url, status) {
  const u = new URL(url);
  return ALLOWED.some((a) => a.method === method && a.status === status && a.path.test(u.pathname));
}

function watch(page, label) {
  page.on('response', (r) => {
    const req = r.request();
    if (r.status() < 400) return;
    if (allowed(req.method(), r.url(), r.status())) {
      allowedUrls.add(r.url());
      return;
    }
    problems.push(`${label}: ${req.method()} ${r.url()} answered ${r.status()}`);
  });
  page.on('requestfailed', (req) => {
    const path = new URL(req.url()).pathname;
    const why = req.failure() ? req.failure().errorText : '?';
    // the event stream ends when the page goes away or the network is cut on purpose
    if (path === '/events/' && (why === 'net::ERR_ABORTED' || outage)) return;
    problems.push(`${label}: ${req.method()} ${req.url()} failed: ${why}`);
  });
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const loc = m.location() && m.location().url;
    // "Failed to load resource" for a response already judged above
    if (loc && allowedUrls.has(loc) && /status of (401|404)/.test(m.text())) return;
    if (outage && /events|ERR_CONNECTION_REFUSED/.test(`${loc} ${m.text()}`)) return;
    problems.push(`${label}: console error: ${m.text()} (${loc || ''})`);
  });
  page.on('pageerror', (e) => problems.push(`${label}: uncaught ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`${label}: a dialog opened: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
}

function takeProblems() {
  return problems.splice(0, problems.length);
}

// ---- the screens -----------------------------------------------------------------------------
const CORRELATE_VALUE = 'sahara-cargo-demo.example';
const SCREENS = [
  ['map', '#/map'],
  ['alerts', '#/alerts'],
  ['feed', '#/feed'],
  ['screen', '#/screen'],
  ['partners', '#/partners'],
  ['correlate', `#/correlate?value=${encodeURIComponent(CORRELATE_VALUE)}`],
];

// Waits until screen NAME has drawn what it loads.
async function ready(page, name) {
  await page.locator(`main.screen-${name}`).waitFor();
  const t = { timeout: 15000 };
  if (name === 'map') await page.locator('[data-testid="map"][data-drawn]').waitFor(t);
  else if (name === 'alerts') await page.getByTestId('alert-item').first().waitFor(t);
  else if (name === 'feed') await page.waitForFunction(() => !document.querySelector('main [role="status"]')?.textContent.match(/…|\.\.\./) , null, t);
  else if (name === 'screen') await page.getByTestId('screen-input').waitFor(t);
  else if (name === 'partners') await page.getByTestId('log-size').waitFor(t);
  else if (name === 'correlate') await page.locator('.corr-out table, .corr-out p:not(.muted)').first().waitFor(t);
  await page.waitForTimeout(250);
}

async function show(page, name, hash) {
  await page.evaluate((h) => (location.hash = h), hash);
  await ready(page, name);
}

// A full load of url, even when the page is there already (goto to the same URL with a hash
// would only scroll).
async function load(page, url) {
  if (page.url() === url) await page.reload();
  else await page.goto(url);
}

async function axeCheck(page) {
  await page.addScriptTag({ content: AXE });
  const r = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const res = await axe.run(document, { resultTypes: ['violations'] });
    return res.violations.map((v) => ({ id: v.id, impact: v.impact, n: v.nodes.length, target: v.nodes[0] && v.nodes[0].target.join(' ') }));
  });
  return r.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

// ---- the run -----------------------------------------------------------------------------------
const log = createWriteStream(join(opt.work, 'serve.log'));
// a heartbeat every second: alerts raised by the CLI (another process) reach the stream then
let srv = await serve(opt.tansiq, opt.home, { env: { TANSIQ_EVENTS_HEARTBEAT_S: '1' }, log });
const base = srv.url;
let browser;
try {
  await check('partner alarm raised (a partner rewrote its log)', async () => {
    const r = spawnSync('python3', [opt.alarm, opt.tansiq, opt.work, opt.home, base], { encoding: 'utf8', timeout: 120000 });
    assert(r.status === 0, `alarm.py exit ${r.status}: ${(r.stderr || '').slice(-500)}`);
  });

  // The XSS cases, stored before the page opens, each reachable from an alert's "show the
  // object": a threat actor whose name the watchlist rule screens as it arrives (its
  // description and external reference hold the markup and the javascript: URL), and an
  // incident near the border whose name and description hold the markup.
  const XSS_IMG = '<img src=x onerror="window.__xss=1">';
  const XSS_SCRIPT = '<script>window.__xss=1</script>';
  const XSS_URL = 'javascript:window.__xss=1';
  const xssActor = 'threat-actor--6f2a7c1e-4b1d-4e8a-9c55-0d3f1a2b7c99';
  const xssAlerts = [];
  await check('XSS objects stored, each with an alert', async () => {
    const now = new Date().toISOString();
    const bundle = {
      type: 'bundle',
      id: 'bundle--0d7c9a51-3f7e-4c8e-a0a9-5b2f6e1d4c33',
      objects: [
        {
          type: 'threat-actor',
          spec_version: '2.1',
          id: xssActor,
          created: now,
          modified: now,
          name: 'Abu Khalid al-Rawi',
          description: `Courier. ${XSS_IMG} ${XSS_SCRIPT}`,
          threat_actor_types: ['criminal'],
          external_references: [{ source_name: XSS_SCRIPT, url: XSS_URL, description: XSS_IMG }],
        },
      ],
    };
    const f = join(opt.work, 'xss.json');
    writeFileSync(f, JSON.stringify(bundle));
    tq('import', f);
    const all = JSON.parse(tq('alert', 'list', '--json', '--limit', '20'));
    const s = all.find((a) => a.detail && a.detail.object === xssActor);
    assert(s, 'the screening rule raised no alert for the threat actor');
    xssAlerts.push({ id: s.id, want: [XSS_IMG, XSS_SCRIPT, XSS_URL] });
    const inc = seizureNearBorder(`${XSS_IMG} ${XSS_SCRIPT}`, `${XSS_SCRIPT} ${XSS_IMG}`);
    xssAlerts.push({ id: inc.id, want: [XSS_IMG, XSS_SCRIPT] });
  });

  browser = await launch();
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
  const page = await ctx.newPage();
  watch(page, 'main');

  await check('login', async () => {
    await login(page, base, { lang: 'en' });
    assert(await page.getByTestId('logout').isVisible(), 'no logout button after login');
  });

  // every screen in both languages: screenshot, no error, the alarm banner, RTL in Arabic
  for (const lang of ['en', 'ar']) {
    await page.goto(`${base}/?lang=${lang}#/map`);
    for (const [name, hash] of SCREENS) {
      await check(`${lang} ${name}: drawn without errors, alarm banner shown`, async () => {
        await show(page, name, hash);
        await page.screenshot({ path: join(OUT, `${lang}-${name}.png`) });
        const p = takeProblems();
        assert(!p.length, p.join('; '));
        assert(await page.getByTestId('alarm-banner').isVisible(), 'the alarm banner is not visible');
        if (lang === 'ar') {
          const d = await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir]);
          assert(d[0] === 'ar' && d[1] === 'rtl', `<html lang="${d[0]}" dir="${d[1]}">`);
        }
      });
    }
    await check(`${lang} map: leaflet controls on the ${lang === 'ar' ? 'right (mirrored)' : 'left'}`, async () => {
      await show(page, 'map', '#/map');
      const r = await page.evaluate(() => {
        const m = document.querySelector('[data-testid="map"]').getBoundingClientRect();
        const z = document.querySelector('.leaflet-control-zoom').getBoundingClientRect();
        const s = document.querySelector('.leaflet-control-scale').getBoundingClientRect();
        const mid = m.left + m.width / 2;
        return { zoomRight: z.left > mid, scaleRight: s.left > mid };
      });
      const want = lang === 'ar';
      assert(r.zoomRight === want && r.scaleRight === want, JSON.stringify(r));
    });
  }

  await check('tablet 768x1024: the map drawn without errors', async () => {
    const tab = await ctx.newPage();
    watch(tab, 'tablet');
    await tab.setViewportSize({ width: 768, height: 1024 });
    await tab.goto(`${base}/?lang=en#/map`);
    await ready(tab, 'map');
    await tab.screenshot({ path: join(OUT, 'tablet-en-map.png') });
    const p = takeProblems();
    assert(!p.length, p.join('; '));
    await tab.close();
  });

  // ---- live alerts -------------------------------------------------------------------------
  await page.goto(`${base}/?lang=en#/alerts`);
  await ready(page, 'alerts');
  await check('live alert over SSE: listed and toasted while the alerts screen is open', async () => {
    const a = seizureNearBorder();
    await page.locator(`[data-testid="alert-item"].fresh[data-id="${a.id}"]`).waitFor({ timeout: 20000 });
    await page.getByTestId('toast').filter({ hasText: a.title }).waitFor({ timeout: 5000 });
  });

  await check('stream dropped and resumed: the missed alert delivered (Last-Event-ID)', async () => {
    // The server goes away (every stream ends), an alert is raised meanwhile, and the server
    // comes back on the same port: the page must reconnect and ask for what it missed.
    const reopened = [];
    const onReq = (r) => {
      if (new URL(r.url()).pathname === '/events/') reopened.push(r.allHeaders().then((hd) => ({ id: hd['last-event-id'], after: new URL(r.url()).searchParams.get('after') })));
    };
    outage = true;
    page.on('request', onReq);
    await srv.stop();
    const a = seizureNearBorder();
    srv = await serve(opt.tansiq, opt.home, { port: srv.port, env: { TANSIQ_EVENTS_HEARTBEAT_S: '1' }, log });
    await page.locator(`[data-testid="alert-item"].fresh[data-id="${a.id}"]`).waitFor({ timeout: 40000 });
    await page.getByTestId('toast').filter({ hasText: a.title }).waitFor({ timeout: 5000 });
    page.off('request', onReq);
    outage = false;
    const asked = await Promise.all(reopened);
    assert(asked.some((r) => Number(r.id || r.after) > 0), `the stream reopened without Last-Event-ID or ?after: ${JSON.stringify(asked)}`);
    takeProblems(); // the outage itself
  });

  // ---- acknowledgement and CSRF ------------------------------------------------------------
  await check('acknowledgement: the user recorded (GET /json/alerts)', async () => {
    const li = page.locator('[data-testid="alert-item"]:has([data-testid="alert-ack"])').first();
    const id = Number(await li.getAttribute('data-id'));
    await li.getByTestId('alert-ack').click();
    await page.locator(`[data-testid="alert-item"][data-id="${id}"] .acked-by`).waitFor({ timeout: 5000 });
    const r = await page.request.get(`${base}/json/alerts?limit=100`);
    const a = (await r.json()).alerts.find((x) => x.id === id);
    assert(a && a.acknowledged && a.acknowledged.by === USER, `alert ${id}: ${JSON.stringify(a && a.acknowledged)}`);
  });

  await check('CSRF: a POST with the cookie but without X-CSRF-Token is 403', async () => {
    const list = await (await page.request.get(`${base}/json/alerts?limit=100&unacked=1`)).json();
    const a = list.alerts[0];
    assert(a, 'no unacknowledged alert to try');
    const r = await page.request.post(`${base}/json/alerts/${a.id}/ack`, { headers: { 'Content-Type': 'application/json' }, data: '{}' });
    assert(r.status() === 403, `answered ${r.status()}`);
    // from another origin, the way a hostile page would: the browser may not even send it
    const other = await ctx.newPage();
    await other.route('https://evil.example/', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<p>x</p>' }));
    await other.goto('https://evil.example/');
    const st = await other.evaluate(async (u) => {
      try {
        const x = await fetch(u, { method: 'POST', credentials: 'include', mode: 'no-cors' });
        return x.type;
      } catch (e) {
        return 'error';
      }
    }, `${base}/json/alerts/${a.id}/ack`);
    await other.close();
    const after = await (await page.request.get(`${base}/json/alerts?limit=100`)).json();
    const still = after.alerts.find((x) => x.id === a.id);
    assert(still && !still.acknowledged, `a cross-origin POST (${st}) acknowledged alert ${a.id}`);
  });

  // ---- screening -----------------------------------------------------------------------------
  await check('screening: "أبو خالد الراوي" finds DEMO-001 first, explained', async () => {
    await show(page, 'screen', '#/screen');
    await page.getByTestId('screen-input').fill('أبو خالد الراوي');
    await page.getByTestId('screen-submit').click();
    const first = page.locator('[data-testid="screen-results"] li.hit').first();
    await first.waitFor({ timeout: 10000 });
    const text = await first.textContent();
    assert(text.includes('DEMO-001'), `the first hit is ${text.slice(0, 200)}`);
    assert((await first.locator('table.explain tbody tr').count()) > 0, 'no explanation under the first hit');
  });

  // ---- XSS -------------------------------------------------------------------------------------
  for (const x of xssAlerts) {
    await check(`XSS: markup and javascript: URLs shown as text (the object of alert ${x.id})`, async () => {
      await load(page, `${base}/?lang=en#/alerts`);
      await ready(page, 'alerts');
      const item = page.locator(`[data-testid="alert-item"][data-id="${x.id}"]`);
      await item.locator('button[aria-expanded="false"]').click();
      const view = item.getByTestId('stix-view');
      await view.waitFor({ timeout: 10000 });
      await page.waitForTimeout(500);
      const r = await page.evaluate((sel) => {
        const v = document.querySelector(sel);
        return {
          xss: typeof window.__xss,
          text: v.textContent,
          imgs: v.querySelectorAll('img').length,
          scripts: v.querySelectorAll('script').length,
          jsLinks: [...document.querySelectorAll('a[href]')].filter((a) => /^\s*javascript:/i.test(a.getAttribute('href'))).length,
        };
      }, `[data-testid="alert-item"][data-id="${x.id}"] [data-testid="stix-view"]`);
      assert(r.xss === 'undefined', `window.__xss is ${r.xss}`);
      assert(r.imgs === 0 && r.scripts === 0 && r.jsLinks === 0, `elements made from data: ${JSON.stringify({ ...r, text: undefined })}`);
      for (const w of x.want) assert(r.text.includes(w), `not shown literally: ${w}`);
      await view.screenshot({ path: join(OUT, `en-xss-${x.id}.png`) });
      const p = takeProblems();
      assert(!p.length, p.join('; '));
    });
  }

  // ---- keyboard ------------------------------------------------------------------------------
  await check('keyboard: Tab reaches the navigation, the focus is visible', async () => {
    await load(page, `${base}/?lang=en#/alerts`);
    await ready(page, 'alerts');
    let found = null;
    for (let i = 0; i < 12 && !found; i++) {
      await page.keyboard.press('Tab');
      found = await page.evaluate(() => {
        const a = document.activeElement;
        if (!a || !a.closest('nav')) return null;
        const s = getComputedStyle(a);
        return { testid: a.getAttribute('data-testid'), outline: `${s.outlineStyle} ${s.outlineWidth}`, shadow: s.boxShadow };
      });
    }
    assert(found, 'twelve Tabs did not reach the navigation');
    const visible = (!found.outline.startsWith('none') && !/ 0px$/.test(found.outline)) || (found.shadow && found.shadow !== 'none');
    assert(visible, `focus on ${found.testid} is not visible: outline ${found.outline}, box-shadow ${found.shadow}`);
  });

  // ---- axe-core, CSP bypassed in a context of its own ----------------------------------------
  const axeCtx = await browser.newContext({ ignoreHTTPSErrors: true, bypassCSP: true, viewport: { width: 1280, height: 800 }, storageState: await ctx.storageState() });
  const ap = await axeCtx.newPage();
  for (const lang of ['en', 'ar']) {
    await ap.goto(`${base}/?lang=${lang}#/map`);
    for (const [name, hash] of SCREENS) {
      await check(`axe ${lang} ${name}: no serious or critical violation`, async () => {
        await show(ap, name, hash);
        const v = await axeCheck(ap);
        assert(!v.length, v.map((x) => `${x.id} (${x.impact}, ${x.n}: ${x.target})`).join('; '));
      });
    }
  }
  await axeCtx.close();

  // ---- the alarm, acknowledged ---------------------------------------------------------------
  await check('alarm: acknowledged from the banner, then gone from every screen', async () => {
    await page.goto(`${base}/?lang=en#/partners`);
    await ready(page, 'partners');
    await page.getByTestId('alarm-ack').first().click();
    await page.getByTestId('alarm-banner').waitFor({ state: 'hidden', timeout: 10000 });
    for (const [name, hash] of SCREENS) {
      await show(page, name, hash);
      assert(!(await page.getByTestId('alarm-banner').isVisible()), `the banner is back on ${name}`);
    }
    await page.reload();
    await ready(page, 'correlate');
    assert(!(await page.getByTestId('alarm-banner').isVisible()), 'the banner is back after a reload');
    const r = await (await page.request.get(`${base}/json/alarms`)).json();
    const list = Array.isArray(r) ? r : r.alarms;
    assert(list.length && list.every((a) => a.acked_by === USER), JSON.stringify(list).slice(0, 300));
  });

  // the two pictures of the map for the documentation, without the banner
  for (const lang of ['en', 'ar']) {
    await page.goto(`${base}/?lang=${lang}#/map`);
    await ready(page, 'map');
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(OUT, `dashboard-${lang}.png`) });
  }

  await check('no console error or failed request left over', async () => {
    const p = takeProblems();
    assert(!p.length, p.join('; '));
  });
  await ctx.close();
} catch (e) {
  fail('suite', e && e.stack ? e.stack : e);
} finally {
  if (browser) await browser.close();
  await srv.stop();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
