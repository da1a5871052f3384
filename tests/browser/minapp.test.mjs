// Headless Chromium test of the Mini App against a running tapwave server.
// Normally started by run.sh, which sets TAPWAVE_URL; CHROMIUM overrides the
// browser (default /usr/bin/chromium). Traffic goes only to TAPWAVE_URL:
// telegram.org is answered with a stub script, anything else is blocked.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, giveUpAfter, useBrowser, devLogin, telegramStub, open as openPage, waitReady, tapCoin as tapCoinAt, waitSynced, shot } from './support.mjs';

const MAX_ASSET_BYTES = 60 * 1024;

giveUpAfter('minapp.test', 240_000);
useBrowser();

/** A fresh browser profile (empty localStorage = a new demo player) and page. */
const open = (opts = {}) => openPage({ navigationTimeout: 20_000, ...opts });

async function readBalance(page) {
  const b = await page.getByTestId('balance').evaluate((el) => ({
    value: Number(el.dataset.value),
    pending: Number(el.dataset.pending),
    text: el.textContent,
  }));
  assert.equal(b.text.replace(/\D/g, ''), String(b.value), `balance text "${b.text}" should show ${b.value}`);
  return b;
}

/** Clicks the coin n times at slightly different spots, like a thumb would. */
const tapCoin = (page, n, pauseMs = 90) => tapCoinAt(page, n, pauseMs, { from: 0.35, spread: 0.3, minTarget: 44 });

const isTaps = (r) => r.url() === new URL('/api/v1/taps', BASE).href && r.request().method() === 'POST';

test('demo player: taps are saved, survive a reload, and show in the Top list', { timeout: 90_000 }, async () => {
  const { context, page, check } = await open();
  try {
    const responses = [];
    page.on('response', (r) => responses.push(r));
    const tapBodies = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/v1/taps')) tapBodies.push(r.postDataJSON());
    });

    await page.goto(new URL('/', BASE).href, { waitUntil: 'load' });
    await waitReady(page);
    check();

    // What the first visit transferred, Telegram's script aside.
    await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => {});
    let total = 0;
    const lines = [];
    for (const r of responses) {
      const u = new URL(r.url());
      if (u.host !== BASE.host) continue;
      const s = await r.request().sizes();
      const bytes = s.responseBodySize + s.responseHeadersSize;
      total += bytes;
      lines.push(`#   ${String(bytes).padStart(6)} B  ${r.headers()['content-encoding'] || 'identity'}  ${u.pathname}`);
    }
    console.log(`# first visit, own responses (transferred):\n${lines.join('\n')}\n#   ${String(total).padStart(6)} B  total`);
    assert.ok(total > 0, 'no response sizes were measured');
    assert.ok(total < MAX_ASSET_BYTES, `the page transferred ${total} bytes, more than ${MAX_ASSET_BYTES}`);

    const start = await readBalance(page);
    assert.equal(start.value, 0, 'a new demo player starts with 0 coins');
    const energy0 = Number(await page.getByTestId('energy').getAttribute('data-value'));
    assert.ok(energy0 >= 10, `a new player has energy to tap (energy ${energy0})`);
    await shot(page, '1-home');

    const answered = page.waitForResponse(isTaps, { timeout: 15_000 });
    await tapCoin(page, 10);
    const optimistic = await readBalance(page);
    assert.equal(optimistic.value, 10, 'the balance goes up at once, before the server answers');
    const floats = await page.locator('#floats .plus').count();
    assert.ok(floats >= 1, 'a "+1" floats up where the coin was tapped');
    const energy1 = Number(await page.getByTestId('energy').getAttribute('data-value'));
    assert.ok(energy1 < energy0, `energy goes down when tapping (${energy0} -> ${energy1})`);

    const res = await answered;
    assert.equal(res.status(), 200, `POST /api/v1/taps answered ${res.status()}`);
    await waitSynced(page);
    assert.equal((await readBalance(page)).value, 10);
    const sent = tapBodies.reduce((n, b) => n + b.count, 0);
    assert.equal(sent, 10, `the batches should carry 10 taps: ${JSON.stringify(tapBodies)}`);
    for (let i = 1; i < tapBodies.length; i++) {
      assert.ok(tapBodies[i].seq > tapBodies[i - 1].seq, `seq must increase: ${JSON.stringify(tapBodies)}`);
    }
    await shot(page, '2-tapped');
    check();

    await page.reload({ waitUntil: 'load' });
    await waitReady(page);
    const after = await readBalance(page);
    assert.equal(after.value, 10, 'after a reload the server balance is 10');
    assert.equal(after.pending, 0);
    check();

    await page.getByTestId('tab-top').click();
    const mine = page.locator('[data-testid=leaderboard] [data-me]');
    await mine.waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await mine.getAttribute('data-balance'), '10', 'the leaderboard shows our balance');
    assert.match(await mine.innerText(), /10/);
    assert.equal(await page.getByTestId('tab-top').getAttribute('aria-selected'), 'true');
    await shot(page, '3-top');
    // This week's board: the same 10 coins, all earned this week.
    await page.getByTestId('board-week').click();
    assert.equal(await page.getByTestId('board-week').getAttribute('aria-pressed'), 'true');
    await mine.waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await mine.getAttribute('data-balance'), '10', 'the weekly board counts this week');
    const pick = await page.getByTestId('board-week').boundingBox();
    assert.ok(pick.height >= 44, `the board switch is ${pick.height}px tall`);
    await shot(page, '3-top-week');
    await page.getByTestId('board-global').click();
    await mine.waitFor({ state: 'visible', timeout: 15_000 });

    await page.getByTestId('tab-tap').click();
    await page.getByTestId('coin').waitFor({ state: 'visible' });
    assert.equal(await page.getByTestId('leaderboard').isVisible(), false);
    check();
  } finally {
    await context.close();
  }
});

test('a batch whose answer is lost is sent again with the same seq, and counted once', { timeout: 60_000 }, async () => {
  const { context, page, check } = await open();
  try {
    await page.goto(new URL('/', BASE).href);
    await waitReady(page);
    const seen = [];
    await page.route('**/api/v1/taps', async (route) => {
      seen.push(route.request().postDataJSON());
      if (seen.length === 1) {
        await route.fetch(); // the server applies it...
        return route.abort('connectionreset'); // ...but the answer never arrives
      }
      return route.continue();
    });
    await tapCoin(page, 5);
    await page.waitForFunction(() => document.getElementById('notice').textContent !== '', null, { timeout: 10_000 });
    const notice = await page.locator('#notice').innerText();
    assert.match(notice, /offline|saved/i, `a friendly line while offline, got "${notice}"`);
    assert.equal((await readBalance(page)).value, 5, 'taps stay on screen while the server is unreachable');
    await waitSynced(page);
    assert.ok(seen.length >= 2, `expected a retry, saw ${JSON.stringify(seen)}`);
    assert.deepEqual(seen[1], seen[0], 'the retry repeats the same count and seq');
    assert.equal((await readBalance(page)).value, 5);
    await page.waitForFunction(() => document.getElementById('notice').textContent === '', null, { timeout: 5_000 });
    await page.reload();
    await waitReady(page);
    assert.equal((await readBalance(page)).value, 5, 'the server counted the batch once');
    check();
  } finally {
    await context.close();
  }
});

test('taps made just before leaving the page are not lost', { timeout: 60_000 }, async () => {
  const { context, page, check } = await open();
  try {
    await page.goto(new URL('/', BASE).href);
    await waitReady(page);

    // 1. Leave at once: pagehide sends the batch with fetch(keepalive).
    await tapCoin(page, 4, 20);
    await page.goto('about:blank');
    await page.goto(new URL('/', BASE).href);
    await waitReady(page);
    await waitSynced(page);
    assert.equal((await readBalance(page)).value, 4, 'the batch sent on pagehide arrived');

    // 2. A page killed before its batches got through leaves them in
    //    localStorage; the next visit sends them. A saved batch the server
    //    already applied (seq <= last_seq) is dropped, not counted twice.
    const id = await page.evaluate(() => localStorage.getItem('tapwave.demo_id'));
    assert.match(id || '', /^1\d{12}$/, 'the demo id is kept in localStorage');
    const seq = Date.now() + 60_000;
    const sent = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/v1/taps')) sent.push(r.postDataJSON());
    });
    // Staged before the app starts (the page being left would overwrite it on pagehide).
    const stage = (saved) =>
      page.addInitScript(
        ([key, value]) => {
          if (sessionStorage.getItem(`staged ${value}`)) return;
          sessionStorage.setItem(`staged ${value}`, '1');
          localStorage.setItem(key, value);
        },
        [`tapwave.taps.${id}`, JSON.stringify(saved)],
      );
    await stage({ outbox: { count: 3, seq }, pending: 2 });
    await page.reload();
    await waitReady(page);
    await waitSynced(page);
    assert.equal((await readBalance(page)).value, 9, 'the saved 3 + 2 taps were sent');
    assert.deepEqual(sent[0], { count: 3, seq }, 'the saved batch went first, with its own seq');
    assert.equal(sent[1]?.count, 2);
    assert.ok(sent[1].seq > seq, 'the next batch has a higher seq');

    await stage({ outbox: { count: 3, seq }, pending: 0 });
    const before = sent.length;
    await page.reload();
    await waitReady(page);
    const shown = await readBalance(page);
    assert.equal(shown.value, 9, 'an already applied batch is not counted twice');
    assert.equal(shown.pending, 0);
    await page.waitForTimeout(1500);
    assert.equal(sent.length, before, `an applied batch is not sent again: ${JSON.stringify(sent.slice(before))}`);
    assert.equal(await page.evaluate((k) => localStorage.getItem(k), `tapwave.taps.${id}`), null);
    check();
  } finally {
    await context.close();
  }
});

test('a 429 answer is retried after Retry-After with the same seq', { timeout: 60_000 }, async () => {
  const { context, page, check } = await open();
  try {
    await page.goto(new URL('/', BASE).href);
    await waitReady(page);
    const seen = [];
    await page.route('**/api/v1/taps', async (route) => {
      seen.push({ at: Date.now(), body: route.request().postDataJSON() });
      if (seen.length === 1) {
        return route.fulfill({
          status: 429,
          headers: { 'Retry-After': '2' },
          contentType: 'application/json',
          body: JSON.stringify({ error: { code: 'rate_limited', message: 'Slow down.' } }),
        });
      }
      return route.continue();
    });
    await tapCoin(page, 3);
    await page.waitForFunction(() => document.getElementById('notice').textContent !== '', null, { timeout: 10_000 });
    assert.match(await page.locator('#notice').innerText(), /busy|2/i);
    await waitSynced(page);
    assert.ok(seen.length >= 2);
    assert.deepEqual(seen[1].body, seen[0].body, 'the retry repeats the same count and seq');
    const waited = seen[1].at - seen[0].at;
    assert.ok(waited >= 1900, `waited ${waited} ms, Retry-After said 2 s`);
    assert.equal((await readBalance(page)).value, 3);
    check();
  } finally {
    await context.close();
  }
});

test('outside Telegram without the demo login, a friendly "open in Telegram" screen', { timeout: 30_000 }, async () => {
  const { context, page, check } = await open();
  try {
    await page.route('**/api/v1/dev/login', (route) =>
      route.fulfill({
        status: 404,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'not_found', message: 'Not found.' } }),
      }),
    );
    await page.goto(new URL('/', BASE).href);
    await page.waitForFunction(() => document.documentElement.dataset.state === 'fatal', null, { timeout: 15_000 });
    const fatal = page.locator('#fatal');
    assert.equal(await fatal.getAttribute('data-kind'), 'tg');
    assert.match(await fatal.innerText(), /Telegram/);
    assert.equal(await page.locator('#app').isVisible(), false);
    await shot(page, '4-open-in-telegram');
    check();
  } finally {
    await context.close();
  }
});

test('inside Telegram: init data, theme, language, haptics, BackButton', { timeout: 60_000 }, async () => {
  const id = 1_000_000_000_000 + Math.floor(Math.random() * 1e9);
  const initData = await devLogin({ id, first_name: 'Тест' });
  const stub = telegramStub({
    initData,
    user: { id, first_name: 'Тест', language_code: 'ru' },
    mainButton: false,
    extra: { safeAreaInset: { top: 0, bottom: 20, left: 0, right: 0 }, contentSafeAreaInset: { top: 10, bottom: 0, left: 0, right: 0 } },
  });

  const { context, page, check } = await open({ telegramScript: stub });
  try {
    await page.goto(new URL('/', BASE).href);
    await waitReady(page);
    const env = await page.evaluate(() => {
      const cs = getComputedStyle(document.documentElement);
      return {
        calls: window.__tg.calls.slice(),
        lang: document.documentElement.lang,
        bg: cs.getPropertyValue('--tg-bg').trim(),
        body: getComputedStyle(document.body).backgroundColor,
        appH: cs.getPropertyValue('--app-h').trim(),
        safeTop: cs.getPropertyValue('--safe-top').trim(),
        safeBottom: cs.getPropertyValue('--safe-bottom').trim(),
        level: document.getElementById('level').textContent,
        league: document.querySelector('[data-testid=league]').textContent,
        tab: document.querySelector('[data-testid=tab-top]').textContent,
      };
    });
    for (const c of ['ready', 'expand', 'disableVerticalSwipes']) assert.ok(env.calls.includes(c), `WebApp.${c}() was not called`);
    assert.equal(env.bg, '#fafafa', 'themeParams.bg_color becomes --tg-bg');
    assert.equal(env.body, 'rgb(250, 250, 250)');
    assert.equal(env.lang, 'ru');
    assert.match(env.level, /Уровень/);
    assert.equal(env.league, 'Лига: Bronze', 'the league shows under the level');
    assert.match(env.tab, /Топ/);
    assert.equal(env.appH, '700px', 'viewportStableHeight is the app height');
    assert.equal(env.safeTop, '10px');
    assert.equal(env.safeBottom, '20px');
    await shot(page, '5-telegram-light-ru');

    const answered = page.waitForResponse(isTaps, { timeout: 15_000 });
    await tapCoin(page, 3);
    assert.equal((await answered).status(), 200);
    await waitSynced(page);
    assert.equal((await readBalance(page)).value, 3);
    const impacts = await page.evaluate(() => window.__tg.calls.filter((c) => c === 'impact:light').length);
    assert.equal(impacts, 3, 'one light haptic impact per tap');

    await page.getByTestId('tab-top').click();
    const mine = page.locator('[data-testid=leaderboard] [data-me]');
    await mine.waitFor({ state: 'visible' });
    assert.equal(await mine.getAttribute('data-balance'), '3');
    assert.match(await mine.innerText(), /Тест/);
    assert.equal(await page.evaluate(() => window.Telegram.WebApp.BackButton.isVisible), true, 'BackButton shows on Top');
    await page.evaluate(() => window.__tg.back());
    await page.getByTestId('coin').waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => window.Telegram.WebApp.BackButton.isVisible), false, 'BackButton hides on Tap');

    const themed = await page.evaluate(() => {
      Object.assign(window.Telegram.WebApp, { colorScheme: 'dark', themeParams: { bg_color: '#101820', text_color: '#eeeeee' } });
      window.__tg.emit('themeChanged');
      return {
        bg: getComputedStyle(document.documentElement).getPropertyValue('--tg-bg').trim(),
        scheme: document.documentElement.dataset.scheme,
        button: getComputedStyle(document.documentElement).getPropertyValue('--tg-button').trim(),
      };
    });
    assert.equal(themed.bg, '#101820', 'themeChanged re-reads themeParams');
    assert.equal(themed.scheme, 'dark');
    assert.ok(themed.button && themed.button !== '#3390ec', 'a colour Telegram no longer sends falls back to the dark default');
    await shot(page, '6-telegram-dark');
    check();
  } finally {
    await context.close();
  }
});
