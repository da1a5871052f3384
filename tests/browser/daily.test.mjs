// Headless Chromium test of the Mini App's daily loops and earning screens:
// Boosts, Tasks, the daily combo, the daily cipher (Morse by pointer presses),
// the Friends "Collect" button, the League board, tap `gaps`, BackButton and
// haptics. run.sh starts a server of its own for it with daily.game.toml
// (three cards, so the combo is all of them; the cipher word "TAP").
// Also unit-tests static/morse.js and TapSync's gaps in node.
//
//   STATIC_DIR  serve the Mini App from this folder instead of the binary's
//               embedded copy (to work on static/ without a rebuild)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE, LIGHT, giveUpAfter, useBrowser, devLogin, telegramStub, open as openPage, waitReady, balance, waitBalance, tapCoin, shot, isPost, isGet } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const STATIC = path.join(here, '../../static');
const { MORSE, decode, encode, symbol, DOT_MAX_MS, LETTER_GAP_MS } = await import(path.join(STATIC, 'morse.js'));
const { TapSync } = await import(path.join(STATIC, 'taps.js'));

const DEV_STATIC = process.env.STATIC_DIR || '';

giveUpAfter('daily.test', 280_000);

// ---- node unit tests ----

test('morse: the table, decoding, timing', () => {
  assert.equal(Object.keys(MORSE).length, 36);
  assert.equal(new Set(Object.values(MORSE)).size, 36);
  for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') assert.equal(decode(encode(ch)), ch);
  assert.equal(encode('t'), '-');
  assert.equal(encode('A'), '.-');
  assert.equal(encode('P'), '.--.');
  assert.equal(encode('S'), '...');
  assert.equal(encode('0'), '-----');
  assert.equal(decode('......'), '');
  assert.equal(decode(''), '');
  assert.equal(encode('!'), '');
  assert.equal(symbol(0), '.');
  assert.equal(symbol(DOT_MAX_MS - 1), '.');
  assert.equal(symbol(DOT_MAX_MS), '-');
  assert.ok(LETTER_GAP_MS > DOT_MAX_MS);
});

test('TapSync: gaps between the taps of a batch, unchanged on a retry', async () => {
  let clock = 1000;
  const sent = [];
  const answers = [];
  const store = new Map();
  const sync = new TapSync({
    send: (batch) => {
      sent.push(JSON.parse(JSON.stringify(batch)));
      return new Promise((resolve, reject) => answers.push({ resolve, reject }));
    },
    store: { get: (k) => store.get(k) ?? null, set: (k, v) => (v == null ? store.delete(k) : store.set(k, v)) },
    clock: () => clock,
  });
  const tick = () => new Promise((r) => setTimeout(r, 0));
  sync.load({ balance: 0, energy: 100, max_energy: 100, tap_power: 1, last_seq: 0 }, 'k');
  for (const gap of [0, 120, 80.4, 70000]) {
    clock += gap;
    assert.equal(sync.tap(), true);
  }
  sync.flush();
  await tick();
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0].gaps, [120, 80, 60000], 'whole ms, clamped to 60 000, count - 1 of them');
  assert.equal(sent[0].count, 4);
  // Taps during the flight belong to the next batch; the gap across batches is not sent.
  clock += 500;
  sync.tap();
  clock += 40;
  sync.tap();
  answers.shift().reject({ status: 0 });
  await tick();
  sync.waitUntil = 0;
  sync.flush();
  await tick();
  assert.deepEqual(sent[1], sent[0], 'the retry is the same body');
  answers.shift().resolve({ accepted: 4, balance: 4, energy: 96, seq: sent[0].seq });
  await tick();
  sync.flush();
  await tick();
  assert.equal(sent[2].count, 2);
  assert.deepEqual(sent[2].gaps, [40]);
  // A saved batch keeps its gaps across a reload.
  const saved = JSON.parse(store.get('k'));
  assert.deepEqual(saved.outbox.gaps, [40]);
  // A single tap has no gap to send.
  answers.shift().resolve({ accepted: 2, balance: 6, energy: 94, seq: sent[2].seq });
  await tick();
  sync.tap();
  sync.flush();
  await tick();
  assert.equal(sent[3].count, 1);
  assert.equal('gaps' in sent[3], false);
});

// ---- the browser ----

useBrowser();

function devStatic(route, u) {
  const name = u.pathname === '/' ? 'index.html' : u.pathname.split('/').pop();
  const file = path.join(DEV_STATIC, name);
  if (!fs.existsSync(file)) return route.fulfill({ status: 404, body: '' });
  let body = fs.readFileSync(file);
  if (name === 'index.html') body = body.toString().replaceAll('__ASSETS__', '/assets/dev');
  const type = { html: 'text/html', js: 'text/javascript', css: 'text/css', png: 'image/png' }[name.split('.').pop()];
  return route.fulfill({ status: 200, contentType: type, body });
}

/** With STATIC_DIR, the page and its assets come from that folder. */
const open = ({ telegramScript = '' } = {}) =>
  openPage({
    telegramScript,
    intercept: (route, u) => {
      if (u.host === BASE.host && DEV_STATIC && (u.pathname === '/' || u.pathname.startsWith('/assets/'))) return devStatic(route, u);
    },
  });

const energy = (page) => page.getByTestId('energy').evaluate((el) => ({ now: Number(el.dataset.value), max: Number(el.dataset.max) }));

/** Clicks `locator` and returns the JSON answer of the request matching `pred`, asserting its status. */
async function answer(page, pred, click, status = 200) {
  const res = page.waitForResponse(pred);
  await click();
  const r = await res;
  assert.equal(r.status(), status, `${r.request().method()} ${r.url()} answered ${r.status()}: ${await r.text()}`);
  return r.json();
}

async function waitMessage(page, testid, code) {
  await page.waitForFunction(
    ([id, c]) => document.querySelector(`[data-testid=${id}]`)?.dataset.code === c,
    [testid, code],
  ).catch(async () => assert.fail(`${testid} should say ${code}, says ${await page.getByTestId(testid).getAttribute('data-code')}: ${await page.getByTestId(testid).innerText()}`));
  return page.getByTestId(testid).innerText();
}

/** Presses the Morse key with the real pointer: each symbol a press of its length. */
async function morse(page, word) {
  const box = await page.getByTestId('morse-key').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (const ch of word) {
    for (const s of encode(ch)) {
      await page.mouse.down();
      if (s === '-') await page.waitForTimeout(DOT_MAX_MS + 200);
      await page.mouse.up();
      await page.waitForTimeout(120); // well inside a letter
    }
    // The pause that ends the letter.
    await page.waitForFunction((n) => document.querySelector('[data-testid=cipher-code]').dataset.value === '', null, { timeout: LETTER_GAP_MS + 3000 });
  }
}

const login = (id, name, startParam) => devLogin({ id, first_name: name, language_code: 'en', start_param: startParam });

const stubFor = (initData, id) =>
  telegramStub({ initData, user: { id, first_name: 'Daily', language_code: 'en' }, themeParams: { ...LIGHT, bg_color: '#ffffff' }, viewportHeight: 780, mainButton: false });

const tg = (page) => page.evaluate(() => ({
  back: window.Telegram.WebApp.BackButton.isVisible,
  handlers: window.__tg.handlers(),
  calls: window.__tg.calls.slice(),
  links: window.__tg.links.slice(),
  tlinks: window.__tg.tlinks.slice(),
}));

/** Presses Telegram's BackButton and waits for the Tap screen. */
async function backToTap(page) {
  assert.equal((await tg(page)).back, true, 'the BackButton shows on a sub-screen');
  await page.evaluate(() => window.__tg.back());
  await page.getByTestId('coin').waitFor({ state: 'visible' });
  const s = await tg(page);
  assert.equal(s.back, false, 'the BackButton hides on the Tap screen');
  assert.equal(s.handlers, 0, 'its click handler is removed');
}

async function notices(page) {
  return (await tg(page)).calls.filter((c) => c.startsWith('notify:'));
}

test('inside Telegram: boosts, tasks, combo, cipher, collect, league board, gaps, BackButton', { timeout: 240_000 }, async () => {
  const id = 1_000_000_000_000 + Math.floor(Math.random() * 1e9);
  const initData = await login(id, 'Daily');
  const { context, page, check } = await open({ telegramScript: stubFor(initData, id) });
  try {
    const tapBodies = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/v1/taps')) tapBodies.push(r.postDataJSON());
    });
    await page.goto(new URL('/', BASE).href);
    await waitReady(page);
    const tabs = await page.locator('#tabs [role=tab]').evaluateAll((els) => els.map((e) => e.id));
    assert.deepEqual(tabs, ['tab-tap', 'tab-upgrades', 'tab-friends', 'tab-tasks', 'tab-top', 'tab-wallet']);
    for (const t of tabs) {
      const box = await page.locator(`#${t}`).boundingBox();
      assert.ok(box.width >= 44 && box.height >= 44, `${t} is a 44 px target: ${JSON.stringify(box)}`);
    }

    // 1. Taps: every batch carries the gaps between its taps.
    await tapCoin(page, 40);
    await waitBalance(page, 40);
    assert.equal(tapBodies.reduce((n, b) => n + b.count, 0), 40);
    for (const b of tapBodies) {
      if (b.count === 1) continue;
      assert.ok(Array.isArray(b.gaps), `a batch of ${b.count} taps sends gaps: ${JSON.stringify(b)}`);
      assert.equal(b.gaps.length, b.count - 1, `one gap between each two taps: ${JSON.stringify(b)}`);
      for (const g of b.gaps) assert.ok(Number.isInteger(g) && g >= 30 && g <= 60_000, `gap ${g} ms (taps ~70 ms apart)`);
    }
    await shot(page, 'd0-home');
    const e0 = await energy(page);
    assert.ok(e0.now < e0.max, `tapping spent energy: ${JSON.stringify(e0)}`);

    // 2. Boosts: a free refill fills the energy; multitap and energy limit cost coins.
    await page.getByTestId('open-boosts').click();
    const boost = (b) => page.locator(`[data-testid=boost][data-id=${b}]`);
    await boost('refill').waitFor();
    assert.equal((await tg(page)).back, true, 'BackButton on Boosts');
    assert.match(await boost('refill').innerText(), /Full energy[\s\S]*2 of 2 left today/);
    assert.match(await boost('multitap').innerText(), /Multitap[\s\S]*Level 0[\s\S]*1 → 2[\s\S]*6/);
    assert.match(await boost('energy_limit').innerText(), /Energy limit[\s\S]*Level 0[\s\S]*300 → 400[\s\S]*7/);
    await shot(page, 'd1-boosts');
    const refilled = await answer(page, isPost('/boosts/refill/buy'), () => boost('refill').getByTestId('boost-buy').click());
    assert.equal(refilled.energy, refilled.max_energy);
    await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid=energy]');
      return el.dataset.value === el.dataset.max;
    });
    assert.equal(await waitMessage(page, 'boost-message', 'refill'), 'Energy is full again!');
    await page.waitForFunction(() => document.querySelector('[data-testid=boost][data-id=refill]').dataset.value === '1');
    assert.deepEqual((await notices(page)).slice(-1), ['notify:success']);
    assert.ok((await tg(page)).calls.includes('impact:medium'), 'a purchase haptic');

    const multi = await answer(page, isPost('/boosts/multitap/buy'), () => boost('multitap').getByTestId('boost-buy').click());
    assert.equal(multi.tap_power, 2);
    await waitBalance(page, 34);
    await waitMessage(page, 'boost-message', 'multitap');
    const limit = await answer(page, isPost('/boosts/energy_limit/buy'), () => boost('energy_limit').getByTestId('boost-buy').click());
    assert.equal(limit.max_energy, 400);
    await waitBalance(page, 27);
    await page.waitForFunction(() => document.querySelector('[data-testid=boost][data-id=energy_limit]').dataset.level === '1');
    // 600 coins for the next multitap: disabled.
    assert.equal(await boost('multitap').getByTestId('boost-buy').isDisabled(), true);
    await backToTap(page);
    assert.equal((await energy(page)).max, 400, 'the energy cap shows on the Tap screen');
    await tapCoin(page, 1);
    await waitBalance(page, 29); // two coins a tap now

    // 3. Tasks: a link opens, then Check pays; refusals show the server's words.
    await page.getByTestId('tab-tasks').click();
    const task = (t) => page.locator(`[data-testid=task][data-id=${t}]`);
    await task('site').waitFor();
    assert.equal((await tg(page)).back, true, 'BackButton on Tasks');
    assert.match(await task('site').innerText(), /Visit our site[\s\S]*\+100/);
    assert.equal(await task('site').getAttribute('data-done'), 'false');
    const started = page.waitForResponse(isPost('/tasks/site/check'));
    await task('site').getByTestId('task-open').click();
    const first = await (await started).json();
    assert.equal(first.done, false, 'the first check of a link starts its delay');
    assert.deepEqual((await tg(page)).links, ['https://example.com/tapwave'], 'Telegram.WebApp.openLink');
    const paidTask = await answer(page, isPost('/tasks/site/check'), () => task('site').getByTestId('task-check').click());
    assert.equal(paidTask.done, true);
    assert.equal(paidTask.reward, 100);
    await waitBalance(page, 129);
    assert.match(await waitMessage(page, 'task-message', 'done'), /\+100 coins for “Visit our site”/);
    await page.waitForFunction(() => document.querySelector('[data-testid=task][data-id=site]').dataset.done === 'true');

    // The channel task opens the channel in Telegram; its check is refused (no BOT_TOKEN here).
    await task('news').getByTestId('task-open').click();
    assert.deepEqual((await tg(page)).tlinks, ['https://t.me/tapwave_news']);
    const refused = page.waitForResponse(isPost('/tasks/news/check'));
    await task('news').getByTestId('task-check').click();
    const rres = await refused;
    assert.equal(rres.status(), 409);
    const rbody = await rres.json();
    assert.equal(await waitMessage(page, 'task-message', rbody.error.code), rbody.error.message, "the server's own sentence");
    assert.deepEqual((await notices(page)).slice(-1), ['notify:error']);
    // The invite task explains what to do.
    assert.match(await task('friend').innerText(), /Friends needed: 1\. Invite them with your link/);
    const notYet = await answer(page, isPost('/tasks/friend/check'), () => task('friend').getByTestId('task-check').click());
    assert.equal(notYet.done, false);
    assert.match(await waitMessage(page, 'task-message', 'not_done'), /Not done yet/);
    await waitBalance(page, 129);
    await shot(page, 'd2-tasks');
    await backToTap(page);

    // 4. The daily combo: three hidden cards; buying all three reveals them, then claim.
    await page.getByTestId('tab-upgrades').click();
    const combo = page.getByTestId('combo');
    await combo.waitFor();
    const slots = () => page.locator('[data-testid=combo-slot]').evaluateAll((els) => els.map((e) => e.textContent));
    assert.deepEqual(await slots(), ['?', '?', '?']);
    assert.match(await combo.innerText(), /Daily combo[\s\S]*3 cards[\s\S]*5,000/);
    assert.equal(await page.getByTestId('combo-claim').isVisible(), false);
    await shot(page, 'd3-combo-hidden');
    let spent = 0;
    for (const [card, cost, name] of [['kiosk', 3, 'Kiosk'], ['courier', 4, 'Courier'], ['lucky', 5, 'Lucky charm']]) {
      const refreshed = page.waitForResponse(isGet('/combo'));
      await answer(page, isPost(`/upgrades/${card}/buy`), () => page.locator(`[data-testid=upgrade][data-id=${card}] [data-testid=upgrade-buy]`).click());
      spent += cost;
      const c = await (await refreshed).json();
      assert.ok(c.found.includes(card), `buying ${card} reveals it: ${JSON.stringify(c)}`);
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid=combo-slot].found').length === n, c.found.length);
      assert.ok((await slots()).includes(name), `the slot shows the card's name ${name}: ${await slots()}`);
    }
    await waitBalance(page, 129 - spent);
    const claim = page.getByTestId('combo-claim');
    await claim.waitFor({ state: 'visible' });
    assert.equal(await claim.innerText(), 'Claim 5,000');
    await shot(page, 'd3-combo');
    const got = await answer(page, isPost('/combo'), () => claim.click());
    assert.equal(got.reward, 5000);
    await waitBalance(page, 129 - spent + 5000);
    assert.match(await waitMessage(page, 'combo-message', 'claimed'), /Combo! \+5,000/);
    await page.waitForFunction(() => document.querySelector('[data-testid=combo]').dataset.claimed === 'true');
    assert.equal(await claim.isVisible(), false, 'claimed: no button');
    let bal = 129 - spent + 5000;
    await backToTap(page);

    // 5. The daily cipher: "TAP" in Morse through real pointer presses.
    await page.getByTestId('open-cipher').click();
    await page.getByTestId('cipher').waitFor();
    assert.equal((await tg(page)).back, true, 'BackButton on the cipher');
    assert.match(await page.getByTestId('cipher').innerText(), /3 letters · reward 7,000 · attempts left: 3/);
    const submit = page.getByTestId('cipher-submit');
    assert.equal(await submit.isDisabled(), true);
    const key = page.getByTestId('morse-key');
    const kb = await key.boundingBox();
    assert.ok(kb.width >= 96 && kb.height >= 96, `a big key: ${JSON.stringify(kb)}`);
    const word = () => page.getByTestId('cipher-word').getAttribute('data-value');
    // The symbols show while a letter is being entered.
    await page.mouse.move(kb.x + kb.width / 2, kb.y + kb.height / 2);
    await page.mouse.down();
    await page.mouse.up();
    await page.waitForTimeout(50);
    assert.equal(await page.getByTestId('cipher-code').getAttribute('data-value'), '.');
    assert.equal(await page.getByTestId('cipher-code').innerText(), '·');
    await page.waitForFunction(() => document.querySelector('[data-testid=cipher-word]').dataset.value === 'E');
    // Backspace removes it.
    await page.getByTestId('cipher-backspace').click();
    assert.equal(await word(), '');
    await morse(page, 'TAP');
    assert.equal(await word(), 'TAP');
    assert.equal(await submit.isDisabled(), false, 'the word is complete: submit');
    await shot(page, 'd4-cipher');
    const solved = await answer(page, isPost('/cipher'), () => submit.click());
    assert.equal(solved.reward, 7000);
    bal += 7000;
    await waitBalance(page, bal);
    assert.match(await waitMessage(page, 'cipher-message', 'solved'), /Right! \+7,000/);
    await page.waitForFunction(() => document.querySelector('[data-testid=cipher]').dataset.solved === 'true');
    assert.equal(await key.isDisabled(), true, 'solved: the key rests until tomorrow');
    assert.deepEqual((await notices(page)).slice(-1), ['notify:success']);
    await backToTap(page);

    // 6. Friends: a friend signs in through this player's link (a signed
    // start_param) and taps 100 coins: 10 % of them is this player's to collect.
    const friendId = id + 1;
    const friendInit = await login(friendId, 'Friend', `ref_${id}`);
    const tapped = await fetch(new URL('/api/v1/taps', BASE), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `tma ${friendInit}` },
      body: JSON.stringify({ count: 100, seq: 1 }),
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(tapped.status, 200);
    assert.equal((await tapped.json()).accepted, 100);
    await page.getByTestId('tab-friends').click();
    const collect = page.getByTestId('ref-collect');
    await collect.waitFor({ state: 'visible' });
    assert.equal(await collect.innerText(), 'Collect 10');
    const col = await answer(page, isPost('/referrals/collect'), () => collect.click());
    assert.equal(col.collected, 10);
    bal += 10;
    await waitBalance(page, bal);
    await waitMessage(page, 'ref-message', 'collected');
    await collect.waitFor({ state: 'hidden' });

    // 7. The league board.
    await page.getByTestId('tab-top').click();
    await page.locator('[data-testid=leaderboard] [data-me]').waitFor();
    const board = page.waitForResponse((r) => r.url().includes('/api/v1/leaderboard') && r.url().includes('board=league'));
    await page.getByTestId('board-league').click();
    const lres = await board;
    assert.equal(lres.status(), 200);
    const league = await lres.json();
    assert.ok(league.league, `the league board names the league: ${JSON.stringify(league)}`);
    await page.waitForFunction((n) => document.querySelector('[data-testid=leaderboard]').dataset.league === n, league.league);
    await page.locator('[data-testid=leaderboard] [data-me]').waitFor();
    assert.equal(await page.getByTestId('board-league').getAttribute('aria-pressed'), 'true');
    assert.match(await page.locator('#my-rank').innerText(), new RegExp(`${league.league} league`));
    await shot(page, 'd5-league');
    await backToTap(page);
    check();
  } finally {
    await context.close();
  }
});

test('outside Telegram: the browser back leaves a sub-screen; wrong cipher words are refused', { timeout: 90_000 }, async () => {
  const { context, page, check } = await open();
  try {
    await page.goto(new URL('/', BASE).href);
    await waitReady(page);
    await page.getByTestId('open-boosts').click();
    await page.locator('[data-testid=boost]').first().waitFor();
    assert.equal(await page.getByTestId('coin').isVisible(), false);
    await page.goBack();
    await page.getByTestId('coin').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#screen-boosts').isVisible(), false);
    // Tab to tab, then back: straight to the Tap screen.
    await page.getByTestId('tab-tasks').click();
    await page.locator('[data-testid=task]').first().waitFor();
    await page.getByTestId('tab-top').click();
    await page.goBack();
    await page.getByTestId('coin').waitFor({ state: 'visible' });
    assert.equal(await page.getByTestId('tab-tap').getAttribute('aria-selected'), 'true');

    // A wrong word: 422, one attempt fewer, the word cleared.
    await page.getByTestId('open-cipher').click();
    await page.getByTestId('cipher').waitFor();
    await morse(page, 'TEA');
    assert.equal(await page.getByTestId('cipher-word').getAttribute('data-value'), 'TEA');
    const wrong = page.waitForResponse(isPost('/cipher'));
    await page.getByTestId('cipher-submit').click();
    const w = await wrong;
    assert.equal(w.status(), 422);
    assert.deepEqual(w.request().postDataJSON(), { word: 'TEA' });
    assert.match(await waitMessage(page, 'cipher-message', 'wrong_word'), /Not the word\. Attempts left: 2/);
    assert.equal(await page.getByTestId('cipher-word').getAttribute('data-value'), '');
    await page.waitForFunction(() => /attempts left: 2/.test(document.querySelector('[data-testid=cipher]').innerText));
    // Escape goes back too.
    await page.keyboard.press('Escape');
    await page.getByTestId('coin').waitFor({ state: 'visible' });
    check();
  } finally {
    await context.close();
  }
});
