// HTTP client for /api/v1: `tma` authorization, JSON errors, demo login.

import { initData as tgInitData } from './tg.js';

const DEMO_KEY = 'tapwave.demo_id';

export class ApiError extends Error {
  /** status 0 means the request never got an HTTP answer (offline, timeout). */
  constructor(status, code, message, retryAfter = 0) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

let auth = tgInitData;
const demo = tgInitData === '';
let relogin = null;

export const isDemo = () => demo;

export function storageGet(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function storageSet(key, value) {
  try {
    if (value == null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    /* storage full or disabled: the game still works, just forgets */
  }
}

function demoId() {
  const saved = Number(storageGet(DEMO_KEY));
  if (Number.isSafeInteger(saved) && saved >= 1e12 && saved < 2e12) return saved;
  const id = 1e12 + Math.floor(Math.random() * 1e12);
  storageSet(DEMO_KEY, String(id));
  return id;
}

function retryAfter(res) {
  const h = res.headers.get('Retry-After');
  if (!h) return 0;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s);
  const at = Date.parse(h);
  return Number.isFinite(at) ? Math.max(0, (at - Date.now()) / 1000) : 0;
}

async function request(path, { method = 'GET', body, keepalive = false, timeout = 10000, authorized = true } = {}) {
  const headers = {};
  if (authorized) headers.Authorization = `tma ${auth}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const ctl = typeof AbortController === 'function' ? new AbortController() : null;
  const timer = ctl && setTimeout(() => ctl.abort(), timeout);
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      keepalive,
      credentials: 'same-origin',
      cache: 'no-store',
      signal: ctl?.signal,
    });
  } catch (e) {
    throw new ApiError(0, e?.name === 'AbortError' ? 'timeout' : 'network', String(e?.message || e));
  } finally {
    if (timer) clearTimeout(timer);
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    /* empty or not JSON */
  }
  if (!res.ok) {
    const err = data?.error || {};
    throw new ApiError(res.status, err.code || `http_${res.status}`, err.message || res.statusText, retryAfter(res));
  }
  return data ?? {};
}

/**
 * Makes sure we can call the API. Inside Telegram the init data is all we need.
 * Outside it, logs in as the demo player kept in localStorage; throws
 * ApiError(404, 'not_in_telegram') when the server has no demo login.
 */
export async function login() {
  if (!demo) return;
  let data;
  try {
    data = await request('/dev/login', {
      method: 'POST',
      body: { id: demoId(), first_name: 'Demo' },
      authorized: false,
    });
  } catch (e) {
    if (e.status === 404 || e.status === 405) throw new ApiError(404, 'not_in_telegram', 'demo login is off');
    throw e;
  }
  if (typeof data.init_data !== 'string' || !data.init_data) throw new ApiError(500, 'bad_login', 'no init_data');
  auth = data.init_data;
}

/** Calls the API; a demo session that expired (401) logs in again once. */
export async function api(path, opts) {
  try {
    return await request(path, opts);
  } catch (e) {
    if (e.status !== 401 || !demo) throw e;
    if (!relogin) {
      relogin = login().finally(() => {
        relogin = null;
      });
    }
    await relogin;
    return request(path, opts);
  }
}
