// Headless Chromium test of the Mini App's Wallet tab against a running tapwave
// server whose game has `[claims] min_amount = 10` (run.sh starts it so).
// Traffic goes only to TAPWAVE_URL: telegram.org and unpkg.com (TON Connect UI)
// are answered with stub scripts, anything else is blocked.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, giveUpAfter, useBrowser, devLogin, telegramStub, open as openPage, waitReady, balance as tapBalance, tapCoin as tapCoinAt, waitSynced, shot as screenshot } from './support.mjs';

// One address in its raw form, and the normalised form the server answers.
const RAW = '0:ca6e321c7cce9ecedf0a8ca2492ec8592494aa5fb5ce0387dff96ef6af982a3e';
const FRIENDLY = 'UQDKbjIcfM6ezt8KjKJJLshZJJSqX7XOA4ff-W72r5gqPuwA';
const randomRaw = () => `0:${Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('')}`;
const KEY = /^[A-Za-z0-9\-_:.]{1,64}$/;
const ON_ITS_WAY = ['pending', 'processing', 'exported'];

giveUpAfter('wallet.test', 240_000);

// A stand-in for TON Connect UI, served in place of unpkg.com's script. The
// "wallet" answers openModal() with window.__tcAccount's address (RAW by
// default) and a ton_proof for the payload it was given; window.__tcCancel
// makes the player close the modal instead.
const TONCONNECT_STUB = `(() => {
  const log = (window.__tc = { created: [], params: [], opened: 0, disconnects: 0 });
  class TonConnectUI {
    constructor(opts) {
      log.created.push(opts);
      this.connected = false;
      this.status = [];
      this.modal = [];
      this.params = null;
      this.connectionRestored = Promise.resolve(false);
    }
    set uiOptions(o) { log.uiOptions = o; }
    setConnectRequestParameters(p) { this.params = p; log.params.push(p); }
    onStatusChange(f) { this.status.push(f); return () => {}; }
    onModalStateChange(f) { this.modal.push(f); return () => {}; }
    async openModal() {
      log.opened += 1;
      if (window.__tcCancel) {
        setTimeout(() => this.modal.forEach((f) => f({ status: 'closed', closeReason: 'action-cancelled' })), 20);
        return;
      }
      const payload = this.params && this.params.state === 'ready' ? this.params.value.tonProof : null;
      const wallet = {
        device: { appName: 'stub' },
        provider: 'http',
        account: { address: window.__tcAccount || ${JSON.stringify(RAW)}, chain: '-239', publicKey: 'ab'.repeat(32), walletStateInit: 'te6cckEBAQEAAgAAAEysuc0=' },
        connectItems: { tonProof: { name: 'ton_proof', proof: {
          timestamp: Math.floor(Date.now() / 1000),
          domain: { lengthBytes: location.hostname.length, value: location.hostname },
          signature: 'c2lnbmF0dXJl', payload } } },
      };
      setTimeout(() => {
        this.connected = true;
        this.modal.forEach((f) => f({ status: 'closed', closeReason: 'wallet-selected' }));
        this.status.forEach((f) => f(wallet));
      }, 20);
    }
    async disconnect() {
      this.connected = false;
      log.disconnects += 1;
      this.status.forEach((f) => f(null));
    }
  }
  window.TON_CONNECT_UI = { TonConnectUI, THEME: { DARK: 'DARK', LIGHT: 'LIGHT' } };
})();`;

useBrowser();

/** A fresh profile (a new demo player) and page; `unpkg` counts TON Connect UI loads. */
async function open({ telegramScript = '', viewport = { width: 390, height: 780 }, permissions = [] } = {}) {
  const unpkg = [];
  const opened = await openPage({
    telegramScript,
    viewport,
    permissions,
    navigationTimeout: 20_000,
    intercept: (route, u) => {
      if (u.hostname === 'unpkg.com') {
        unpkg.push(u.href);
        return route.fulfill({ status: 200, contentType: 'application/javascript', body: TONCONNECT_STUB });
      }
    },
  });
  return { ...opened, unpkg };
}

const tapCoin = (page, n, pauseMs = 70) => tapCoinAt(page, n, pauseMs, { from: 0.35, spread: 0.3 });

/** Taps until the server has `n` coins for this player. */
async function earn(page, n) {
  await tapCoin(page, n);
  await waitSynced(page);
  assert.equal(await tapBalance(page), n, `tapped ${n} coins`);
}

async function openWallet(page) {
  // Every visit reads the limits afresh; wait for that answer, not an earlier one still on screen.
  const limits = page.waitForResponse((r) => r.url().endsWith('/api/v1/claims/limits'));
  await page.getByTestId('tab-wallet').click();
  await page.locator('#screen-wallet').waitFor({ state: 'visible' });
  const fresh = await (await limits).json();
  await page.waitForFunction(
    (min) => {
      const el = document.querySelector('[data-testid=claim-min]');
      const note = document.querySelector('[data-testid=claim-note]');
      return el.dataset.value === String(min) && note.dataset.reason !== 'loading';
    },
    fresh.min_amount,
  );
  // The answer is rendered in the same task that parsed it; one more frame to be sure.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
}

/** The text and error code of a message line, once it says something (other than `not`). */
async function message(page, testid, not = null) {
  await page.waitForFunction(
    ([id, prev]) => {
      const m = document.querySelector(`[data-testid=${id}]`);
      return m.textContent.trim() !== '' && m.dataset.code !== 'checking' && (prev === null || m.dataset.code !== prev);
    },
    [testid, not],
  );
  return page.getByTestId(testid).evaluate((m) => ({ text: m.textContent.trim(), code: m.dataset.code, tone: m.dataset.tone }));
}

async function clearMessage(page, testid) {
  await page.getByTestId(testid).evaluate((m) => {
    m.textContent = '';
    m.dataset.code = '';
  });
}

async function saveAddress(page, address) {
  await clearMessage(page, 'wallet-message');
  await page.getByLabel('Wallet address', { exact: true }).fill(address);
  await page.getByTestId('wallet-save').click();
  return message(page, 'wallet-message');
}

const isClaimPost = (r) => r.url() === new URL('/api/v1/claims', BASE).href && r.request().method() === 'POST';

async function claim(page, amount) {
  await clearMessage(page, 'claim-message');
  await page.getByTestId('claim-amount').fill(String(amount));
  const answered = page.waitForResponse(isClaimPost);
  await page.getByTestId('claim-submit').click();
  const res = await answered;
  const msg = await message(page, 'claim-message');
  return { res, msg };
}

async function history(page) {
  return page.locator('[data-testid=claim-history] [data-testid=claim-row]').evaluateAll((rows) =>
    rows.map((r) => ({
      id: Number(r.dataset.id),
      status: r.dataset.status,
      amount: Number(r.dataset.amount),
      chip: r.querySelector('[data-testid=claim-status]').textContent,
    })),
  );
}

const shot = (page, name) => screenshot(page, name, { fullPage: true });

/** A player made straight through the API (dev/login), for set-ups the page need not see. */
async function apiPlayer(first_name = 'Other') {
  const init_data = await devLogin({ first_name });
  return (p, init = {}) =>
    fetch(new URL(`/api/v1${p}`, BASE), {
      ...init,
      headers: { Authorization: `tma ${init_data}`, 'Content-Type': 'application/json' },
      signal: AbortSignal.timeout(10_000),
    });
}

test('wallet tab: address typed by hand, normalised; claim; history; balance on the Tap screen', { timeout: 90_000 }, async () => {
  const { context, page, check, unpkg } = await open({ permissions: ['clipboard-read', 'clipboard-write'] });
  try {
    await page.goto(new URL('/', BASE).href);
    await waitReady(page);
    await earn(page, 30);

    await openWallet(page);
    assert.equal(await page.getByTestId('tab-wallet').getAttribute('aria-selected'), 'true');
    assert.match(await page.getByTestId('tab-wallet').innerText(), /Wallet/);
    const min = Number(await page.getByTestId('claim-min').getAttribute('data-value'));
    assert.equal(min, 10, 'run.sh starts the server with [claims] min_amount = 10');
    assert.equal(await page.getByTestId('claim-balance').getAttribute('data-value'), '30');
    assert.match(await page.getByTestId('claim-left').innerText(), /no limit/, 'the default game has no daily cap');
    assert.equal(await page.getByTestId('wallet').isVisible(), false, 'no wallet yet');
    assert.equal(await page.getByTestId('wallet-connect').isVisible(), false, 'no TON Connect outside Telegram');
    assert.equal(await page.getByTestId('claim-note').getAttribute('data-reason'), 'c_need_wallet');
    assert.equal(await page.getByTestId('claim-submit').isDisabled(), true, 'no claim without a wallet');
    assert.equal(unpkg.length, 0, 'TON Connect UI is not loaded outside Telegram');
    await shot(page, 'w1-no-wallet');

    // A bad address: a friendly line, the field marked.
    let msg = await saveAddress(page, 'EQ-not-a-wallet');
    assert.equal(msg.code, 'invalid_address');
    assert.match(msg.text, /not a TON wallet address/);
    assert.equal(await page.getByTestId('wallet-input').getAttribute('aria-invalid'), 'true');

    // The raw form, answered normalised.
    msg = await saveAddress(page, RAW);
    assert.equal(msg.code, 'saved', `saving the address said: ${msg.text}`);
    const addr = page.getByTestId('wallet-address');
    await addr.waitFor({ state: 'visible' });
    assert.equal(await addr.getAttribute('data-address'), FRIENDLY);
    assert.equal(await addr.getAttribute('data-raw'), RAW);
    const shown = await addr.innerText();
    assert.ok(shown.startsWith('UQDKbj') && shown.endsWith('PuwA') && shown.length < FRIENDLY.length, `shortened: ${shown}`);
    assert.equal(await page.getByTestId('wallet-proof').getAttribute('data-proven'), 'false');
    assert.match(await page.getByTestId('wallet-proof').innerText(), /Not verified/);
    assert.equal(await page.getByTestId('wallet-input').isVisible(), false, 'the form folds away once saved');
    assert.equal(await page.getByTestId('wallet-manual').innerText(), 'Change address');

    await page.getByTestId('wallet-copy').click();
    msg = await message(page, 'wallet-message', 'saved');
    assert.equal(msg.code, 'copied');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), FRIENDLY, 'the full address is copied');

    // Every visible button is a thumb-sized target with a name.
    const buttons = await page.locator('#screen-wallet button:visible, #tabs button').evaluateAll((bs) =>
      bs.map((b) => {
        const r = b.getBoundingClientRect();
        return { name: b.getAttribute('aria-label') || b.textContent.trim(), w: r.width, h: r.height };
      }),
    );
    for (const b of buttons) {
      assert.ok(b.w >= 44 && b.h >= 44, `button "${b.name}" is ${b.w}x${b.h}, smaller than 44 px`);
      assert.ok(b.name, 'every button has a label');
    }

    // More than the balance, and less than the minimum: the server says no, kindly.
    let r = await claim(page, 31);
    assert.equal(r.res.status(), 409);
    assert.equal(r.msg.code, 'insufficient_balance');
    assert.match(r.msg.text, /Not enough coins: your balance is 30/);
    r = await claim(page, 5);
    assert.equal(r.res.status(), 422);
    assert.equal(r.msg.code, 'below_minimum');
    assert.match(r.msg.text, /smallest claim is 10/);
    assert.equal((await history(page)).length, 0, 'refused claims leave no history');

    // "All" fills in the whole balance.
    await page.getByTestId('claim-all').click();
    assert.equal(await page.getByTestId('claim-amount').inputValue(), '30');

    // A claim of 12: made, shown on its way, and the balance goes down everywhere.
    const bodies = [];
    page.on('request', (q) => {
      if (q.method() === 'POST' && q.url() === new URL('/api/v1/claims', BASE).href) bodies.push(q.postDataJSON());
    });
    r = await claim(page, 12);
    assert.equal(r.res.status(), 201);
    const made = await r.res.json();
    assert.equal(made.status, 'pending');
    assert.equal(made.amount, 12);
    assert.equal(made.address, FRIENDLY);
    assert.equal(made.balance, 18);
    assert.equal(r.msg.code, 'claimed');
    assert.match(r.msg.text, /12 coins are on their way/);
    assert.match(bodies.at(-1).idempotency_key, KEY);
    assert.equal(await page.getByTestId('claim-amount').inputValue(), '', 'the form is cleared');
    assert.equal(await page.getByTestId('claim-balance').getAttribute('data-value'), '18');

    await page.waitForFunction(() => document.querySelectorAll('[data-testid=claim-history] [data-testid=claim-row]').length === 1);
    const [row] = await history(page);
    assert.equal(row.id, made.id);
    assert.equal(row.amount, 12);
    assert.ok(ON_ITS_WAY.includes(row.status), `a new claim is pending (or already picked up by the worker): ${row.status}`);
    assert.equal(row.chip, 'On its way');
    await shot(page, 'w2-claimed');

    await page.getByTestId('tab-tap').click();
    await page.getByTestId('coin').waitFor({ state: 'visible' });
    assert.equal(await tapBalance(page), 18, 'the Tap screen shows the balance after the claim');

    // It all holds after a reload.
    await page.reload();
    await waitReady(page);
    assert.equal(await tapBalance(page), 18);
    await openWallet(page);
    assert.equal(await page.getByTestId('wallet-address').getAttribute('data-address'), FRIENDLY);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=claim-history] [data-testid=claim-row]').length === 1);
    assert.equal(await page.getByTestId('claim-message').innerText(), '', 'nothing left unfinished');
    check();
  } finally {
    await context.close();
  }
});

test('a claim whose answer is lost is sent again with the same key, after a reload, and made once', { timeout: 90_000 }, async () => {
  const { context, page, check } = await open();
  try {
    await page.goto(new URL('/', BASE).href);
    await waitReady(page);
    await earn(page, 25);
    await openWallet(page);

    // An address another player already has.
    const other = await apiPlayer();
    const takenRaw = randomRaw();
    assert.equal((await other('/wallet', { method: 'PUT', body: JSON.stringify({ address: takenRaw }) })).status, 200);
    let msg = await saveAddress(page, takenRaw);
    assert.equal(msg.code, 'wallet_taken');
    assert.match(msg.text, /already linked to another player/);

    msg = await saveAddress(page, randomRaw());
    assert.equal(msg.code, 'saved');

    const bodies = [];
    await page.route('**/api/v1/claims', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      bodies.push(route.request().postDataJSON());
      if (bodies.length === 1) {
        const res = await route.fetch(); // the server makes the claim...
        assert.equal(res.status(), 201);
        return route.abort('connectionreset'); // ...but its answer never arrives
      }
      return route.continue();
    });
    await page.getByTestId('claim-amount').fill('10');
    await page.getByTestId('claim-submit').click();
    msg = await message(page, 'claim-message');
    assert.equal(msg.code, 'network');
    assert.match(msg.text, /No answer from the server.*not be claimed twice/);

    // The page is closed and opened again before the player retries.
    await page.reload();
    await waitReady(page);
    await openWallet(page);
    msg = await message(page, 'claim-message');
    assert.equal(msg.code, 'unfinished');
    assert.match(msg.text, /last claim of 10 coins got no answer/);
    assert.equal(await page.getByTestId('claim-amount').inputValue(), '10', 'the unfinished claim is filled in again');
    const answered = page.waitForResponse(isClaimPost);
    await page.getByTestId('claim-submit').click();
    const res = await answered;
    assert.equal(res.status(), 200, 'the same key again answers the claim already made');
    msg = await message(page, 'claim-message', 'unfinished');
    assert.equal(msg.code, 'claimed');
    assert.equal(bodies.length, 2);
    assert.match(bodies[0].idempotency_key, KEY);
    assert.deepEqual(bodies[1], bodies[0], 'the retry repeats the amount and the key');

    await page.waitForFunction(() => document.querySelectorAll('[data-testid=claim-history] [data-testid=claim-row]').length >= 1);
    assert.equal((await history(page)).length, 1, 'one claim, not two');
    assert.equal(await page.getByTestId('claim-balance').getAttribute('data-value'), '15');

    // The next claim is a new one, with a new key.
    const r = await claim(page, 10);
    assert.equal(r.res.status(), 201);
    assert.equal(bodies.length, 3);
    assert.notEqual(bodies[2].idempotency_key, bodies[0].idempotency_key);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=claim-history] [data-testid=claim-row]').length === 2);
    await page.getByTestId('tab-tap').click();
    assert.equal(await tapBalance(page), 5);
    check();
  } finally {
    await context.close();
  }
});

test('every claim refusal has its own friendly line, and the limits shape the form', { timeout: 90_000 }, async () => {
  const { context, page, check } = await open();
  try {
    await page.goto(new URL('/', BASE).href);
    await waitReady(page);
    await earn(page, 20);

    // Today's cap left: 15 (the rest of the answer is the server's).
    let limitsPatch = { player_daily_cap: 50, player_daily_left: 15, global_daily_left: 1000 };
    await page.route('**/api/v1/claims/limits', async (route) => {
      const res = await route.fetch();
      const json = { ...(await res.json()), ...limitsPatch };
      return route.fulfill({ response: res, json });
    });
    await openWallet(page);
    assert.equal(await page.getByTestId('claim-left').getAttribute('data-value'), '15');
    assert.match(await page.getByTestId('claim-global-left').innerText(), /1,000/);
    assert.equal((await saveAddress(page, randomRaw())).code, 'saved');
    await page.getByTestId('claim-all').click();
    assert.equal(await page.getByTestId('claim-amount').inputValue(), '15', '"All" stops at what is left today');

    const refusals = [
      [409, 'no_wallet', /Add a wallet first/],
      [409, 'wallet_not_proven', /Verify your wallet with TON Connect/],
      [409, 'claims_paused', /paused/],
      [409, 'daily_cap_reached', /today’s claim limit/],
      [409, 'global_cap_reached', /used up for everyone/],
      [409, 'idempotency_key_reused', /already went through/],
      [400, 'invalid_amount', /whole number/],
      [429, 'rate_limited', /Too many requests/],
      [503, 'unavailable', /hiccup|No answer/],
      [500, 'internal', /hiccup|No answer/],
      [418, 'teapot', /Something went wrong \(teapot\)/],
      [429, 'claim_cooldown', /next claim is possible in 0:02/],
    ];
    let answer = null;
    await page.route('**/api/v1/claims', (route) => {
      if (route.request().method() !== 'POST' || !answer) return route.continue();
      const [status, code] = answer;
      return route.fulfill({
        status,
        contentType: 'application/json',
        headers: status === 429 ? { 'Retry-After': '2' } : {},
        body: JSON.stringify({ error: { code, message: 'x' } }),
      });
    });
    for (const [status, code, text] of refusals) {
      answer = [status, code];
      const r = await claim(page, 11);
      assert.equal(r.res.status(), status);
      assert.equal(r.msg.tone, 'error', `${code}: ${r.msg.text}`);
      assert.match(r.msg.text, text, `${code} says: ${r.msg.text}`);
      assert.equal(await page.evaluate(() => document.documentElement.dataset.state), 'ready', `${code} leaves the app running`);
      assert.equal(await page.locator('#screen-wallet').isVisible(), true);
      await page.waitForFunction(() => !document.querySelector('[data-testid=claim-submit]').textContent.includes('…'));
    }
    // The cool-down holds the form until it is over.
    assert.equal(await page.getByTestId('claim-note').getAttribute('data-reason'), 'c_cooldown');
    assert.equal(await page.getByTestId('claim-submit').isDisabled(), true);
    await page.waitForFunction(() => document.querySelector('[data-testid=claim-note]').dataset.reason === '', null, { timeout: 5000 });
    assert.equal(await page.getByTestId('claim-message').innerText(), '', 'the cool-down line goes when the cool-down does');

    // Paused claims: said before the player even tries.
    limitsPatch = { ...limitsPatch, paused: true };
    await page.getByTestId('tab-tap').click();
    await openWallet(page);
    await page.waitForFunction(() => document.querySelector('[data-testid=claim-note]').dataset.reason === 'c_paused');
    assert.match(await page.getByTestId('claim-note').innerText(), /paused/);
    assert.equal(await page.getByTestId('claim-submit').isDisabled(), true);

    // Every status has its chip; sent shows the transaction, refunded its reason.
    const tx = 'f3a1c2d4e5b60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00';
    await page.route('**/api/v1/claims', (route) => {
      if (route.request().method() !== 'GET') return route.continue();
      const base = { address: FRIENDLY, tx_hash: null, error: null, created_at: Date.now() };
      return route.fulfill({
        json: [
          { ...base, id: 904, amount: 40, status: 'refunded', error: 'wallet refused the transfer' },
          { ...base, id: 903, amount: 30, status: 'sent', tx_hash: tx },
          { ...base, id: 902, amount: 20, status: 'exported' },
          { ...base, id: 901, amount: 10, status: 'processing' },
          { ...base, id: 900, amount: 10, status: 'pending' },
        ],
      });
    });
    await page.getByTestId('tab-tap').click();
    await openWallet(page);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=claim-history] [data-testid=claim-row]').length === 5);
    const rows = await history(page);
    assert.deepEqual(rows.map((r) => r.chip), ['Refunded', 'Sent', 'On its way', 'On its way', 'On its way']);
    const sentTx = page.locator('[data-testid=claim-row][data-status=sent] [data-testid=claim-tx]');
    assert.equal(await sentTx.getAttribute('data-tx'), tx);
    assert.match(await sentTx.innerText(), /^Transaction f3a1c2…eeff00$/);
    assert.match(
      await page.locator('[data-testid=claim-row][data-status=refunded] [data-testid=claim-reason]').innerText(),
      /Reason: wallet refused the transfer.*back on your balance/,
    );
    await page.getByTestId('claim-history').scrollIntoViewIfNeeded();
    await shot(page, 'w4-history');

    // No coins were moved by any of it.
    await page.getByTestId('tab-tap').click();
    assert.equal(await tapBalance(page), 20);
    check();
  } finally {
    await context.close();
  }
});

test('inside Telegram: TON Connect loads on demand and its proof is sent; MainButton claims; BackButton', { timeout: 90_000 }, async () => {
  const id = 1_000_000_000_000 + Math.floor(Math.random() * 1e9);
  const initData = await devLogin({ id, first_name: 'Тест' });
  const stub = telegramStub({ initData, user: { id, first_name: 'Тест', language_code: 'ru' }, colorScheme: 'dark' });

  const { context, page, check, unpkg } = await open({ telegramScript: stub });
  try {
    await page.goto(new URL('/', BASE).href);
    await waitReady(page);
    await earn(page, 15);
    const mb = () => page.evaluate(() => {
      const m = window.Telegram.WebApp.MainButton;
      return { text: m.text, visible: m.isVisible, active: m.isActive, progress: m.isProgressVisible, handlers: m.clicks.length };
    });

    await openWallet(page);
    assert.match(await page.getByTestId('tab-wallet').innerText(), /Кошелёк/);
    assert.equal(await page.evaluate(() => window.Telegram.WebApp.BackButton.isVisible), true, 'BackButton on the Wallet tab');
    assert.equal(await page.getByTestId('claim-submit').isVisible(), false, 'MainButton confirms inside Telegram');
    let m = await mb();
    assert.equal(m.visible, true);
    assert.equal(m.active, false, 'no claim without a wallet');
    assert.equal(m.handlers, 1);
    const connect = page.getByTestId('wallet-connect');
    assert.equal(await connect.isVisible(), true);
    assert.equal(await connect.innerText(), 'Подключить кошелёк');
    assert.equal(unpkg.length, 0, 'TON Connect UI is not loaded before it is needed');

    // 1. Cancelled in the wallet list.
    await page.evaluate(() => { window.__tcCancel = true; });
    await connect.click();
    let msg = await message(page, 'wallet-message');
    assert.equal(msg.code, 'cancelled');
    assert.equal(unpkg.length, 1, 'TON Connect UI is loaded when the player taps Connect');
    assert.ok(unpkg[0].startsWith('https://unpkg.com/@tonconnect/ui@2/'), unpkg[0]);
    const created = await page.evaluate(() => window.__tc.created);
    assert.equal(created.length, 1);
    assert.equal(created[0].manifestUrl, new URL('/tonconnect-manifest.json', BASE).href);
    const manifest = await (await fetch(created[0].manifestUrl)).json();
    assert.ok(manifest.url && manifest.name, 'the manifest is served');

    // 2. A proof the server checks (and refuses: the stub wallet cannot sign).
    await page.evaluate(() => { window.__tcCancel = false; });
    const payloadRes = page.waitForResponse((r) => r.url().endsWith('/api/v1/wallet/proof/payload'));
    const proofReq = page.waitForRequest((r) => r.url().endsWith('/api/v1/wallet/proof') && r.method() === 'POST');
    await clearMessage(page, 'wallet-message');
    await connect.click();
    const { payload } = await (await payloadRes).json();
    const sent = (await proofReq).postDataJSON();
    assert.equal(sent.address, RAW, 'the raw address from TON Connect');
    assert.equal(sent.public_key, 'ab'.repeat(32));
    assert.equal(sent.proof.payload, payload, 'the proof is for the payload just issued');
    assert.equal(sent.proof.state_init, 'te6cckEBAQEAAgAAAEysuc0=', "state_init is the account's walletStateInit");
    assert.equal(sent.proof.domain.value, BASE.hostname);
    assert.equal(typeof sent.proof.timestamp, 'number');
    assert.equal(sent.proof.signature, 'c2lnbmF0dXJl');
    msg = await message(page, 'wallet-message');
    assert.equal(msg.code, 'invalid_proof');
    assert.match(msg.text, /Проверка кошелька не прошла/);
    assert.equal(unpkg.length, 1, 'TON Connect UI is loaded once');

    // 3. An address typed by hand, then proven (the server's answer stands in for a real wallet's proof).
    await page.getByTestId('wallet-manual').click();
    const raw2 = randomRaw();
    await clearMessage(page, 'wallet-message');
    await page.getByLabel('Адрес кошелька', { exact: true }).fill(raw2);
    await page.getByTestId('wallet-save').click();
    msg = await message(page, 'wallet-message');
    assert.equal(msg.code, 'saved');
    const friendly2 = await page.getByTestId('wallet-address').getAttribute('data-address');
    assert.equal(await page.getByTestId('wallet-proof').getAttribute('data-proven'), 'false');
    assert.equal(await connect.innerText(), 'Подтвердить через TON Connect');
    await page.route('**/api/v1/wallet/proof', (route) =>
      route.fulfill({ status: 200, json: { address: friendly2, raw: raw2, proven: true, wallet_kind: 'v4r2' } }),
    );
    await page.evaluate((a) => { window.__tcAccount = a; }, raw2);
    await clearMessage(page, 'wallet-message');
    await connect.click();
    msg = await message(page, 'wallet-message');
    assert.equal(msg.code, 'proven');
    assert.equal(await page.getByTestId('wallet-proof').getAttribute('data-proven'), 'true');
    assert.match(await page.getByTestId('wallet-proof').innerText(), /Подтверждён · v4r2/);
    await page.unroute('**/api/v1/wallet/proof');

    // 4. The claim, confirmed with the MainButton.
    await page.getByTestId('claim-amount').fill('10');
    m = await mb();
    assert.equal(m.text, 'Вывести 10');
    assert.equal(m.active, true);
    const answered = page.waitForResponse(isClaimPost);
    await clearMessage(page, 'claim-message');
    await page.evaluate(() => window.__tg.main());
    assert.equal((await answered).status(), 201);
    msg = await message(page, 'claim-message');
    assert.equal(msg.code, 'claimed');
    assert.match(msg.text, /Заявка принята/);
    m = await mb();
    assert.equal(m.progress, false);
    assert.equal(m.text, 'Вывести');
    const calls = await page.evaluate(() => window.__tg.calls);
    assert.ok(calls.includes('notify:success'), `a success haptic after the claim: ${calls.join(',')}`);
    assert.ok(calls.includes('notify:error'), 'an error haptic after the refused proof');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=claim-history] [data-testid=claim-row]').length === 1);
    const [row] = await history(page);
    assert.equal(row.chip, 'В пути');
    await shot(page, 'w3-telegram-dark-ru');

    // 5. BackButton leaves; the MainButton goes with the Wallet tab.
    await page.evaluate(() => window.__tg.back());
    await page.getByTestId('coin').waitFor({ state: 'visible' });
    m = await mb();
    assert.equal(m.visible, false, 'MainButton hidden off the Wallet tab');
    assert.equal(m.handlers, 0);
    assert.equal(await page.evaluate(() => window.Telegram.WebApp.BackButton.isVisible), false);
    assert.equal(await tapBalance(page), 5);
    check();
  } finally {
    await context.close();
  }
});
