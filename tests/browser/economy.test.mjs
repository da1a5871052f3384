// Headless Chromium test of the Mini App's economy screens: Upgrades, the
// daily reward, Friends and the "while you were away" sheet. Started by run.sh
// (TAPWAVE_URL), whose game file has cheap cards: "stall" (markets, 8 coins,
// +12/h), "intern" (team, 5 coins, +6/h, one level) and "vault" (out of reach).
// Traffic goes only to TAPWAVE_URL: telegram.org gets a stub, the rest is blocked.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, giveUpAfter, useBrowser, open, devLogin, telegramStub, waitReady, balance, waitBalance, tapCoin as tapCoinAt, shot, isPost } from './support.mjs';

giveUpAfter('economy.test', 240_000);
useBrowser();

const profit = (page) => page.getByTestId('profit').evaluate((el) => Number(el.dataset.value));

const tapCoin = (page, n, pauseMs = 60) => tapCoinAt(page, n, pauseMs);

const card = (page, id) => page.locator(`[data-testid=upgrade][data-id="${id}"]`);

async function assertTarget(locator, what) {
  const box = await locator.boundingBox();
  assert.ok(box && box.width >= 44 && box.height >= 44, `${what} should be at least 44×44 px, is ${JSON.stringify(box)}`);
}

test('demo player: tap, buy upgrades, claim the daily reward, see the invite link', { timeout: 120_000 }, async () => {
  const { context, page, check } = await open();
  try {
    await page.goto(new URL('/', BASE).href);
    await waitReady(page);
    const tabs = await page.locator('#tabs [role=tab]').evaluateAll((els) => els.map((e) => e.id));
    assert.deepEqual(tabs, ['tab-tap', 'tab-upgrades', 'tab-friends', 'tab-tasks', 'tab-top', 'tab-wallet']);
    for (const id of tabs) await assertTarget(page.locator(`#${id}`), id);
    assert.equal(await profit(page), 0, 'a new player earns nothing per hour');

    // 1. Earn some coins.
    await tapCoin(page, 15);
    await waitBalance(page, 15);

    // 2. Upgrades: cards grouped by category, the unaffordable one disabled.
    await page.getByTestId('tab-upgrades').click();
    await card(page, 'stall').waitFor({ state: 'visible' });
    const groups = await page.locator('.up-cat').allInnerTexts();
    assert.deepEqual(groups.map((g) => g.toLowerCase()), ['markets', 'team']);
    assert.equal(await card(page, 'stall').getAttribute('data-level'), '0');
    assert.equal(await card(page, 'stall').getAttribute('data-cost'), '8');
    assert.match(await card(page, 'stall').innerText(), /Market stall[\s\S]*Level 0[\s\S]*\+0 per hour[\s\S]*12 at the next level[\s\S]*8/);
    const vault = card(page, 'vault').getByTestId('upgrade-buy');
    assert.equal(await vault.isDisabled(), true, 'a card the balance cannot pay is disabled');
    assert.match(await vault.getAttribute('aria-label'), /Vault.*1,000,000.*need 999,985 more/);
    const stallBuy = card(page, 'stall').getByTestId('upgrade-buy');
    assert.equal(await stallBuy.isDisabled(), false);
    assert.match(await stallBuy.getAttribute('aria-label'), /Buy the next level of Market stall for 8 coins/);
    await assertTarget(stallBuy, 'the buy button');
    await shot(page, 'e1-upgrades');

    // 3. Buy it: balance 15 - 8, level 1, profit per hour 12.
    const bought = page.waitForResponse(isPost('/upgrades/stall/buy'));
    await stallBuy.click();
    const res = await bought;
    assert.equal(res.status(), 200);
    const state = await res.json();
    assert.equal(state.balance, 7);
    assert.equal(state.passive_per_hour, 12);
    await page.waitForFunction(() => document.querySelector('[data-testid=upgrade][data-id=stall]')?.dataset.level === '1');
    await waitBalance(page, 7);
    assert.equal(await profit(page), 12, 'the profit per hour on the Tap screen rises');
    assert.match(await page.getByTestId('upgrade-message').innerText(), /Market stall is now level 1/);
    assert.equal(await card(page, 'stall').getAttribute('data-cost'), '16', 'the next level costs more');
    assert.equal(await card(page, 'stall').getByTestId('upgrade-buy').isDisabled(), true, '16 > 7: disabled now');

    // 4. A friendly line per error code (the server says no; the card is reloaded).
    for (const [status, code, line] of [
      [409, 'max_level', /already at its top level/],
      [409, 'insufficient_balance', /Not enough coins: Intern costs 5/],
      [404, 'not_found', /no longer in the game/],
    ]) {
      await page.route('**/api/v1/upgrades/intern/buy', (route) =>
        route.fulfill({ status, contentType: 'application/json', body: JSON.stringify({ error: { code, message: code } }) }),
      );
      await card(page, 'intern').getByTestId('upgrade-buy').click();
      await page.waitForFunction((c) => document.querySelector('[data-testid=upgrade-message]').dataset.code === c, code);
      assert.match(await page.getByTestId('upgrade-message').innerText(), line);
      await page.unroute('**/api/v1/upgrades/intern/buy');
    }
    await waitBalance(page, 7);

    // 5. A one-level card: bought, then at its max level.
    const bought2 = page.waitForResponse(isPost('/upgrades/intern/buy'));
    await card(page, 'intern').getByTestId('upgrade-buy').click();
    assert.equal((await bought2).status(), 200);
    await page.waitForFunction(() => document.querySelector('[data-testid=upgrade][data-id=intern]')?.dataset.level === '1');
    await waitBalance(page, 2);
    assert.equal(await profit(page), 18);
    const intern = card(page, 'intern').getByTestId('upgrade-buy');
    assert.equal(await intern.isDisabled(), true);
    assert.match(await intern.innerText(), /Max level/);
    assert.equal(await card(page, 'intern').getAttribute('data-cost'), '');

    // 6. Back on the Tap screen: the profit per hour shows there.
    await page.getByTestId('tab-tap').click();
    assert.equal(await page.locator('#profit').innerText(), '+18');

    // 7. The daily reward: the balance rises by it; a second claim is "already claimed".
    const daily = page.getByTestId('daily');
    await assertTarget(daily, 'the daily reward button');
    assert.equal(await daily.getAttribute('data-state'), 'ready');
    const claimed = page.waitForResponse(isPost('/daily'));
    await daily.click();
    const dres = await claimed;
    assert.equal(dres.status(), 200);
    const reward = await dres.json();
    assert.equal(reward.day, 1);
    assert.ok(reward.reward > 0);
    await waitBalance(page, 2 + reward.reward);
    await page.waitForFunction(() => document.querySelector('[data-testid=daily]').dataset.state === 'claimed');
    assert.match(await daily.innerText(), new RegExp(`Day 1: \\+${reward.reward.toLocaleString('en-US')} claimed today`));
    assert.match(await page.locator('#notice').innerText(), /Day 1 of your streak/);
    await shot(page, 'e2-daily');

    const again = page.waitForResponse(isPost('/daily'));
    await daily.click();
    const ares = await again;
    assert.equal(ares.status(), 409);
    assert.equal((await ares.json()).error.code, 'already_claimed');
    await page.waitForFunction(() => /already claimed/i.test(document.getElementById('notice').textContent));
    await waitBalance(page, 2 + reward.reward);

    // ...and after a reload it still says claimed (kept for the UTC day).
    await page.reload();
    await waitReady(page);
    assert.equal(await page.getByTestId('daily').getAttribute('data-state'), 'claimed');
    assert.equal(await balance(page), 2 + reward.reward);
    assert.equal(await profit(page), 18);

    // 8. Friends: the invite link is ref_<id> (no BOT_USERNAME), copied on a click.
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE.origin });
    const id = await page.evaluate(() => localStorage.getItem('tapwave.demo_id'));
    await page.getByTestId('tab-friends').click();
    const link = page.getByTestId('ref-link');
    await page.waitForFunction(() => document.querySelector('[data-testid=ref-link]').textContent !== '');
    assert.equal(await link.innerText(), `ref_${id}`);
    assert.equal(await page.getByTestId('ref-count').innerText(), '0');
    assert.match(await page.locator('#ref-status').innerText(), /No friends yet/);
    const share = page.getByTestId('ref-share');
    await assertTarget(share, 'the copy button');
    assert.match(await share.innerText(), /Copy link/);
    await share.click();
    await page.waitForFunction(() => document.querySelector('[data-testid=ref-message]').textContent !== '');
    assert.equal(await page.getByTestId('ref-message').getAttribute('data-code'), 'copied');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `ref_${id}`);
    await shot(page, 'e3-friends');
    check();
  } finally {
    await context.close();
  }
});

test('while away: the sheet says what passive income was credited', { timeout: 60_000 }, async () => {
  const { context, page, check } = await open();
  try {
    await page.route('**/api/v1/me', async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      return route.fulfill({ response: res, json: { ...body, while_away: 1234 } });
    });
    await page.goto(new URL('/', BASE).href);
    await waitReady(page);
    const sheet = page.getByTestId('away');
    await sheet.waitFor({ state: 'visible' });
    assert.match(await sheet.innerText(), /While you were away you earned 1,234 coins/);
    assert.equal(await page.locator('#away [role=dialog]').getAttribute('aria-modal'), 'true');
    await assertTarget(page.locator('#away-ok'), 'the Collect button');
    await shot(page, 'e4-away');
    await page.locator('#away-ok').click();
    await sheet.waitFor({ state: 'hidden' });
    check();
  } finally {
    await context.close();
  }
});

test('inside Telegram: MainButton confirms a purchase, BackButton, share via openTelegramLink, Russian', { timeout: 90_000 }, async () => {
  const id = 1_000_000_000_000 + Math.floor(Math.random() * 1e9);
  const initData = await devLogin({ id, first_name: 'Тест' });
  const stub = telegramStub({ initData, user: { id, first_name: 'Тест', language_code: 'ru' }, colorScheme: 'dark' });

  const { context, page, check } = await open({ telegramScript: stub });
  try {
    await page.goto(new URL('/', BASE).href);
    await waitReady(page);
    assert.match(await page.getByTestId('tab-upgrades').innerText(), /Прокачка/);
    assert.match(await page.getByTestId('daily').innerText(), /Ежедневная награда/);
    await tapCoin(page, 10);
    await waitBalance(page, 10);

    await page.getByTestId('tab-upgrades').click();
    await card(page, 'stall').waitFor({ state: 'visible' });
    const tg = () => page.evaluate(() => ({
      back: window.Telegram.WebApp.BackButton.isVisible,
      main: (({ text, isVisible, isActive, isProgressVisible }) => ({ text, isVisible, isActive, isProgressVisible }))(window.Telegram.WebApp.MainButton),
      calls: window.__tg.calls.slice(),
      links: window.__tg.tlinks.slice(),
    }));
    assert.equal((await tg()).back, true, 'BackButton shows on Upgrades');
    assert.equal((await tg()).main.isVisible, false, 'no MainButton until a card is picked');

    // Picking a card asks for confirmation on the MainButton; nothing is bought yet.
    let buys = 0;
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().includes('/upgrades/')) buys += 1;
    });
    await card(page, 'stall').getByTestId('upgrade-buy').click();
    let s = await tg();
    assert.equal(s.main.isVisible, true);
    assert.equal(s.main.isActive, true);
    assert.match(s.main.text, /Купить «Market stall» за 8/);
    assert.equal(buys, 0, 'the card button only picks in Telegram');
    const bought = page.waitForResponse(isPost('/upgrades/stall/buy'));
    await page.evaluate(() => window.__tg.main());
    assert.equal((await bought).status(), 200);
    await page.waitForFunction(() => document.querySelector('[data-testid=upgrade][data-id=stall]')?.dataset.level === '1');
    await waitBalance(page, 2);
    s = await tg();
    assert.equal(s.main.isVisible, false, 'the MainButton goes away after the purchase');
    assert.ok(s.calls.includes('notify:success'), 'a success haptic');
    assert.match(await page.getByTestId('upgrade-message').innerText(), /теперь уровня 1/);

    // Leaving with the BackButton hides the MainButton too.
    assert.equal(await card(page, 'intern').getByTestId('upgrade-buy').isDisabled(), true, 'a card the balance cannot pay is not offered');
    await page.evaluate(() => window.__tg.back());
    await page.getByTestId('coin').waitFor({ state: 'visible' });
    s = await tg();
    assert.equal(s.back, false);
    assert.equal(s.main.isVisible, false);
    assert.equal(await profit(page), 12);

    // Friends with a t.me link: the share sheet opens in Telegram.
    await page.route('**/api/v1/referrals', (route) =>
      route.fulfill({ json: { link: `https://t.me/tapwave_bot?start=ref_${id}`, count: 2, earned: 1500, friends: [{ id: 5, name: 'Аня', earned: 1000 }, { id: 6, name: '', earned: 500 }] } }),
    );
    await page.getByTestId('tab-friends').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=ref-list] li').length === 2);
    assert.equal(await page.getByTestId('ref-count').innerText(), '2');
    assert.match(await page.getByTestId('ref-list').innerText(), /Аня[\s\S]*\+1\s000[\s\S]*Игрок[\s\S]*\+500/);
    assert.match(await page.getByTestId('ref-share').innerText(), /Поделиться/);
    await page.getByTestId('ref-share').click();
    const links = (await tg()).links;
    assert.equal(links.length, 1);
    const share = new URL(links[0]);
    assert.equal(share.origin + share.pathname, 'https://t.me/share/url');
    assert.equal(share.searchParams.get('url'), `https://t.me/tapwave_bot?start=ref_${id}`);
    assert.ok(share.searchParams.get('text'));
    await shot(page, 'e5-telegram-friends-dark');
    check();
  } finally {
    await context.close();
  }
});
