// Helpers shared by the headless-Chromium tests (*.test.mjs). Not a test itself:
// run.sh runs *.test.mjs only. TAPWAVE_URL is the server under test, CHROMIUM
// overrides the browser (default /usr/bin/chromium), SCREENSHOT_DIR keeps
// screenshots. Traffic goes only to TAPWAVE_URL: telegram.org is answered with
// a stub script, anything else is blocked unless a test intercepts it.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const BASE = new URL(process.env.TAPWAVE_URL || 'http://127.0.0.1:8080');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const SHOTS = process.env.SCREENSHOT_DIR || '';

assert.ok(
  ['127.0.0.1', 'localhost', '[::1]'].includes(BASE.hostname),
  `TAPWAVE_URL must be a loopback address, got ${BASE.href}`,
);

/** Whatever happens, stop by ourselves after `ms`. */
export function giveUpAfter(name, ms) {
  setTimeout(() => {
    console.error(`${name}: gave up after ${ms / 1000} s`);
    process.exit(1);
  }, ms).unref();
}

let browser;

/** Launches headless Chromium before the tests of the calling file and closes it after them. */
export function useBrowser() {
  before(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 60_000,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
  });
}

/**
 * A fresh browser profile (empty localStorage = a new demo player) and page.
 * `permissions` is passed to the context only when given; `navigationTimeout`
 * is set only when given; `intercept(route, url)` may answer a request first
 * (return its promise) or return nothing to let the usual rules decide.
 */
export async function open({
  telegramScript = '',
  viewport = { width: 390, height: 780 },
  locale = 'en-US',
  permissions,
  navigationTimeout,
  intercept,
} = {}) {
  const options = { viewport, serviceWorkers: 'block', locale };
  if (permissions !== undefined) options.permissions = permissions;
  const context = await browser.newContext(options);
  context.setDefaultTimeout(15_000);
  if (navigationTimeout !== undefined) context.setDefaultNavigationTimeout(navigationTimeout);
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    const handled = intercept?.(route, u);
    if (handled) return handled;
    if (u.host === BASE.host) return route.continue();
    if (u.hostname === 'telegram.org' || u.hostname.endsWith('.telegram.org')) {
      return route.fulfill({ status: 200, contentType: 'application/javascript', body: telegramScript });
    }
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('console', (m) => {
    if (m.type() === 'error') console.log(`# [browser console] ${m.text()}`);
  });
  const check = () => {
    if (errors.length) assert.fail(`the page threw: ${errors.map((e) => e.stack || e.message).join('\n')}`);
  };
  return { context, page, check };
}

export async function waitReady(page) {
  await page.waitForFunction(() => document.documentElement.dataset.state !== 'loading', null, { timeout: 20_000 });
  const state = await page.evaluate(() => document.documentElement.dataset.state);
  if (state !== 'ready') {
    const text = await page.locator('#fatal').innerText().catch(() => '?');
    assert.fail(`the Mini App did not start: state=${state}, screen says: ${text}`);
  }
}

export const balance = (page) => page.getByTestId('balance').evaluate((el) => Number(el.dataset.value));

/** Waits until the balance is `value` with nothing pending. */
export async function waitBalance(page, value) {
  await page.waitForFunction(
    (v) => {
      const el = document.querySelector('[data-testid=balance]');
      return el.dataset.pending === '0' && el.dataset.value === String(v);
    },
    value,
    { timeout: 15_000 },
  ).catch(async () => assert.fail(`the balance should be ${value}, it is ${await balance(page)}`));
}

/** Waits until every tap is acknowledged by the server. */
export async function waitSynced(page) {
  await page.waitForFunction(() => document.querySelector('[data-testid=balance]').dataset.pending === '0', null, { timeout: 15_000 });
}

/**
 * Clicks the coin n times at slightly different spots, like a thumb would:
 * each click lands in [from, from + spread) of the coin's width and height.
 * With `minTarget`, first asserts the coin is at least that big.
 */
export async function tapCoin(page, n, pauseMs = 70, { from = 0.4, spread = 0.2, minTarget = 0 } = {}) {
  const box = await page.getByTestId('coin').boundingBox();
  if (minTarget) assert.ok(box && box.width >= minTarget && box.height >= minTarget, 'the coin should be a big tap target');
  for (let i = 0; i < n; i++) {
    await page.mouse.click(box.x + box.width * (from + spread * Math.random()), box.y + box.height * (from + spread * Math.random()));
    await page.waitForTimeout(pauseMs);
  }
}

/** A screenshot into SCREENSHOT_DIR, if set; `options` go to page.screenshot (e.g. fullPage). */
export async function shot(page, name, options = {}) {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), ...options });
}

export const isPost = (suffix) => (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/api/v1${suffix}`;
export const isGet = (suffix) => (r) => r.request().method() === 'GET' && new URL(r.url()).pathname === `/api/v1${suffix}`;

/** A new player's signed init data from `POST /api/v1/dev/login` (`body`: id, first_name, language_code, start_param…). */
export async function devLogin(body = {}) {
  const res = await fetch(new URL('/api/v1/dev/login', BASE), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200, 'dev/login should work without BOT_TOKEN');
  const { init_data: initData } = await res.json();
  assert.ok(initData, 'dev/login returns init_data');
  return initData;
}

export const LIGHT = { bg_color: '#fafafa', text_color: '#111111', hint_color: '#777777', button_color: '#3390ec', button_text_color: '#ffffff', secondary_bg_color: '#eeeeee', accent_text_color: '#3390ec' };
export const DARK = { bg_color: '#17212b', text_color: '#f5f5f5', hint_color: '#708499', link_color: '#6ab3f3', button_color: '#5288c1', button_text_color: '#ffffff', secondary_bg_color: '#232e3c', accent_text_color: '#6ab2f2', destructive_text_color: '#ec3942' };

/**
 * The script served in place of telegram-web-app.js: a `Telegram.WebApp` for `initData` and
 * `user` that records what the page asks of it. `window.__tg` lets a test act as Telegram:
 * `calls` (ready, expand, disableVerticalSwipes, impact:*, notify:*, back:show, back:hide),
 * `links` (openLink), `tlinks` (openTelegramLink), `back()` and `main()` press the BackButton
 * and the MainButton, `handlers()` counts the BackButton's click handlers, `emit(event)` fires
 * a WebApp event. `mainButton: false` leaves the MainButton out (an older client); `extra` is
 * merged into WebApp (safeAreaInset…).
 */
export function telegramStub({ initData, user, colorScheme = 'light', themeParams = colorScheme === 'dark' ? DARK : LIGHT, viewportHeight = 700, mainButton = true, extra = {} }) {
  return `(() => {
    const calls = [], handlers = {}, back = [], links = [], tlinks = [];
    const MainButton = { text: '', isVisible: false, isActive: true, isProgressVisible: false, clicks: [],
      setParams(p) { if ('text' in p) this.text = p.text; if ('is_active' in p) this.isActive = p.is_active;
        if ('is_visible' in p) this.isVisible = p.is_visible; if ('color' in p) this.color = p.color; return this; },
      setText(t) { this.text = t; return this; }, show() { this.isVisible = true; return this; }, hide() { this.isVisible = false; return this; },
      enable() { this.isActive = true; return this; }, disable() { this.isActive = false; return this; },
      showProgress() { this.isProgressVisible = true; return this; }, hideProgress() { this.isProgressVisible = false; return this; },
      onClick(f) { this.clicks.push(f); return this; }, offClick(f) { this.clicks = this.clicks.filter((x) => x !== f); return this; } };
    const WebApp = {
      initData: ${JSON.stringify(initData)},
      initDataUnsafe: { user: ${JSON.stringify(user)} },
      version: '8.0', platform: 'android', colorScheme: ${JSON.stringify(colorScheme)},
      themeParams: ${JSON.stringify(themeParams)},
      viewportHeight: ${viewportHeight}, viewportStableHeight: ${viewportHeight},
      isVersionAtLeast: () => true,
      ready: () => calls.push('ready'), expand: () => calls.push('expand'),
      disableVerticalSwipes: () => calls.push('disableVerticalSwipes'),
      setHeaderColor() {}, setBackgroundColor() {}, setBottomBarColor() {},
      onEvent: (n, f) => { (handlers[n] = handlers[n] || []).push(f); },
      offEvent: (n, f) => { handlers[n] = (handlers[n] || []).filter((x) => x !== f); },
      openLink: (u) => links.push(u),
      openTelegramLink: (u) => tlinks.push(u),
      HapticFeedback: { impactOccurred: (s) => calls.push('impact:' + s), notificationOccurred: (s) => calls.push('notify:' + s) },
      BackButton: { isVisible: false, show() { this.isVisible = true; calls.push('back:show'); }, hide() { this.isVisible = false; calls.push('back:hide'); },
        onClick: (f) => back.push(f), offClick: (f) => { const i = back.indexOf(f); if (i >= 0) back.splice(i, 1); } },
      ...(${mainButton} ? { MainButton } : {}),
      ...${JSON.stringify(extra)},
    };
    window.Telegram = { WebApp };
    window.__tg = { calls, links, tlinks,
      back: () => back.slice().forEach((f) => f()), handlers: () => back.length,
      main: () => MainButton.clicks.slice().forEach((f) => f()),
      emit: (n) => (handlers[n] || []).forEach((f) => f.call(WebApp)) };
  })();`;
}
