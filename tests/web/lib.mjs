// What the browser tests and the browser benchmarks share: a tansiq server started and stopped
// by PID, Chromium (Debian's) through playwright-core, and the login.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.TQ_CHROMIUM || '/usr/bin/chromium';
export const USER = 'demo';
export const PASSWORD = 'demo-password';

// tansiq serve on loopback (port 0: a free one); resolves to { url, port, proc, stop() } once
// the server printed its URL. env: extra environment (the SSE heartbeat, for one).
export function serve(tansiq, home, { port = 0, env = {}, log } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(tansiq, ['serve', '--home', home, '--listen', `127.0.0.1:${port}`], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', log ? 'pipe' : 'ignore'],
    });
    if (log) proc.stderr.on('data', (d) => log.write(d));
    const timer = setTimeout(() => reject(new Error('tansiq serve did not print its URL in 20 s')), 20000);
    proc.on('exit', (code) => reject(new Error(`tansiq serve exited (${code}) before it printed its URL`)));
    const rl = createInterface({ input: proc.stdout });
    rl.once('line', (line) => {
      clearTimeout(timer);
      const m = /^(https:\/\/127\.0\.0\.1:(\d+))/.exec(line.trim());
      if (!m) return reject(new Error(`tansiq serve printed ${line}`));
      proc.removeAllListeners('exit');
      resolve({
        url: m[1],
        port: Number(m[2]),
        proc,
        stop: () =>
          new Promise((done) => {
            if (proc.exitCode !== null) return done();
            proc.once('exit', () => done());
            proc.kill('SIGTERM');
          }),
      });
    });
  });
}

export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

// Signs in through the page's form; resolves once the map screen is there.
export async function login(page, base, { lang = 'en' } = {}) {
  await page.goto(`${base}/?lang=${lang}#/map`);
  await page.getByTestId('login-user').fill(USER);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('nav-map').waitFor();
}

export function percentile(xs, p) {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
