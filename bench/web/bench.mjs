// bench/web/bench.mjs --url BASE --label TEXT - the dashboard in Chromium against a running
// node (bench/web/run.sh starts it), each figure next to a reference measured in the same run:
//   - login submit to a usable map (the incident layer drawn: data-drawn on the map), against
//     a cold load of a static page that loads the same JS and CSS from /assets/;
//   - frame times (requestAnimationFrame deltas) while panning and zooming, against the same
//     map with every layer switched off;
//   - the JS and CSS bytes on the wire (compressed), against the 300 KB goal.
import { launch, login, percentile, USER, PASSWORD } from '../../tests/web/lib.mjs';

const opt = {};
for (let i = 2; i < process.argv.length; i += 2) opt[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const base = opt.url;
const label = opt.label || '';
const RUNS = Number(process.env.BENCH_WEB_RUNS || 5);
const GOAL = 300 * 1024;

const median = (xs) => percentile(xs, 50);
const ms = (x) => x.toFixed(0);
const ratio = (a, b) => (b > 0 ? (a / b).toFixed(2) : '0');

const browser = await launch();
const ctxOpts = { ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 }, locale: 'en-GB' };

// One cold sign-in: ms from the submit to the drawn map, and the bytes of JS and CSS the page
// fetched (encodedDataLength: what came over the wire, headers included).
async function signIn() {
  const ctx = await browser.newContext(ctxOpts);
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  const types = new Map();
  const bytes = { Script: 0, Stylesheet: 0, Font: 0 };
  cdp.on('Network.responseReceived', (e) => types.set(e.requestId, e.type));
  cdp.on('Network.loadingFinished', (e) => {
    const t = types.get(e.requestId);
    if (t in bytes) bytes[t] += e.encodedDataLength;
  });
  await page.goto(`${base}/?lang=en#/map`);
  await page.getByTestId('login-user').fill(USER);
  await page.getByTestId('login-password').fill(PASSWORD);
  const t = await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const t0 = performance.now();
        setTimeout(() => reject(new Error('no drawn map after 120 s')), 120000);
        const obs = new MutationObserver(() => {
          const m = document.querySelector('[data-testid="map"][data-drawn]');
          if (m && Number(m.getAttribute('data-drawn')) > 0) {
            obs.disconnect();
            resolve(performance.now() - t0);
          }
        });
        obs.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-drawn'] });
        document.querySelector('[data-testid="login-submit"]').click();
      }),
  );
  await ctx.close();
  return { t, bytes };
}

// One cold load of a blank page that loads the page's own JS and CSS: ms to its load event.
async function staticLoad(js, css) {
  const ctx = await browser.newContext({ ...ctxOpts, bypassCSP: true });
  const page = await ctx.newPage();
  await page.route(`${base}/bench-static.html`, (r) =>
    r.fulfill({ status: 200, contentType: 'text/html', body: `<!doctype html><html><head><link rel="stylesheet" href="/assets/${css}"><script type="module" src="/assets/${js}"></script></head><body></body></html>` }),
  );
  await page.goto(`${base}/bench-static.html`, { waitUntil: 'load' });
  const t = await page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0];
    return n.loadEventEnd - n.startTime;
  });
  await ctx.close();
  return t;
}

// Frame times while the map is dragged and zoomed by the mouse: rAF deltas in ms.
async function frames(page) {
  const box = await page.getByTestId('map').boundingBox();
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.evaluate(() => {
    window.__frames = [];
    let last = performance.now();
    const tick = (now) => {
      window.__frames.push(now - last);
      last = now;
      if (!window.__stopFrames) requestAnimationFrame(tick);
    };
    window.__stopFrames = false;
    requestAnimationFrame(tick);
  });
  for (let round = 0; round < 2; round++) {
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + 250, cy + 120, { steps: 30 });
    await page.mouse.move(cx - 200, cy - 100, { steps: 30 });
    await page.mouse.up();
    for (let i = 0; i < 3; i++) {
      await page.mouse.wheel(0, -200);
      await page.waitForTimeout(300);
    }
    for (let i = 0; i < 3; i++) {
      await page.mouse.wheel(0, 200);
      await page.waitForTimeout(300);
    }
  }
  return page.evaluate(() => {
    window.__stopFrames = true;
    return window.__frames.slice(1);
  });
}

try {
  // the asset names, from the page the node serves
  const ctx0 = await browser.newContext(ctxOpts);
  const p0 = await ctx0.newPage();
  await p0.goto(`${base}/`);
  const names = await p0.evaluate(() => ({
    js: document.querySelector('script[type="module"]').getAttribute('src').replace('/assets/', ''),
    css: document.querySelector('link[rel="stylesheet"]').getAttribute('href').replace('/assets/', ''),
  }));
  await ctx0.close();

  const maps = [];
  const statics = [];
  let bytes = null;
  for (let i = 0; i < RUNS; i++) {
    statics.push(await staticLoad(names.js, names.css));
    const r = await signIn();
    maps.push(r.t);
    bytes = r.bytes;
  }
  const m = median(maps);
  const s = median(statics);
  console.log(`web usable map after login (${label}): ${ms(m)} ms median of ${RUNS}; static page of the same assets ${ms(s)} ms; ratio ${ratio(m, s)}`);

  // frames: the full map, then the same map with every layer switched off
  const ctx = await browser.newContext(ctxOpts);
  const page = await ctx.newPage();
  await login(page, base);
  await page.locator('[data-testid="map"][data-drawn]').waitFor({ timeout: 120000 });
  await page.waitForTimeout(500);
  const full = await frames(page);
  for (const k of ['units', 'border', 'band', 'hotspots', 'incidents']) await page.locator(`#layer-${k}`).uncheck();
  await page.waitForTimeout(500);
  const empty = await frames(page);
  await ctx.close();
  const f50 = percentile(full, 50);
  const f95 = percentile(full, 95);
  const e50 = percentile(empty, 50);
  const e95 = percentile(empty, 95);
  console.log(
    `web pan/zoom frame time (${label}): p50 ${f50.toFixed(1)} ms, p95 ${f95.toFixed(1)} ms over ${full.length} frames; ` +
      `empty map p50 ${e50.toFixed(1)} ms, p95 ${e95.toFixed(1)} ms; ratio p50 ${ratio(f50, e50)}, p95 ${ratio(f95, e95)}`,
  );

  const code = bytes.Script + bytes.Stylesheet;
  console.log(
    `web JS+CSS transferred (${label}): ${(code / 1024).toFixed(1)} KB compressed (JS ${(bytes.Script / 1024).toFixed(1)}, CSS ${(bytes.Stylesheet / 1024).toFixed(1)}; ` +
      `fonts ${(bytes.Font / 1024).toFixed(1)} KB besides); goal 300 KB; ratio ${ratio(code, GOAL)}`,
  );
} finally {
  await browser.close();
}
