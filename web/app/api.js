// The node's JSON API: the session, its CSRF token on every state-changing request, errors.

export const session = { user: null, csrf: '' };
let onLost = () => {};

export function onSessionLost(fn) {
  onLost = fn;
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
  }
}

async function readBody(r) {
  const type = r.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try {
      return await r.json();
    } catch {
      return null;
    }
  }
  return r.text();
}

export async function api(path, { method = 'GET', body, type } = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  if (body !== undefined && typeof body !== 'string') {
    body = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  } else if (type) {
    headers['Content-Type'] = type;
  }
  const r = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  const data = await readBody(r);
  if (!r.ok) {
    if (r.status === 401 && !path.startsWith('/json/session') && session.user) {
      session.user = null;
      onLost();
    }
    throw new ApiError(r.status, data && typeof data === 'object' ? data.error : '');
  }
  return data;
}

// POST with upload progress, which fetch does not report: onProgress(sent, total).
export function postWithProgress(path, body, type, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', path);
    x.setRequestHeader('Accept', 'application/json');
    x.setRequestHeader('Content-Type', type);
    if (session.csrf) x.setRequestHeader('X-CSRF-Token', session.csrf);
    x.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.total));
    x.addEventListener('load', () => {
      let data = null;
      try {
        data = JSON.parse(x.responseText);
      } catch {
        data = null;
      }
      if (x.status >= 200 && x.status < 300) resolve(data);
      else reject(new ApiError(x.status, data && data.error));
    });
    x.addEventListener('error', () => reject(new ApiError(0, '')));
    x.send(body);
  });
}

export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : '';
}

export async function login(user, password) {
  const s = await api('/json/session', { method: 'POST', body: { user, password } });
  session.user = s.user;
  session.csrf = s.csrf;
  return s;
}

// The session the cookie holds, or null when signed out (the node answers {"user":null}).
export async function resume() {
  try {
    const s = await api('/json/session');
    if (!s || !s.user) return null;
    session.user = s.user;
    session.csrf = s.csrf;
    return s;
  } catch {
    return null;
  }
}

export async function logout() {
  try {
    await api('/json/session', { method: 'DELETE' });
  } finally {
    session.user = null;
    session.csrf = '';
  }
}
