// tapwave Mini App: start-up, tabs and page lifecycle.

import { initTelegram, tgLanguage, setBackButton, setMainButton } from './tg.js';
import { setLang, translate, t } from './i18n.js';
import { api, login, isDemo, storageGet, storageSet } from './api.js';
import { TapSync } from './taps.js';
import { createHome } from './home.js';
import { createTop } from './top.js';
import { createWallet } from './wallet.js';
import { createUpgrades, createDaily, createFriends, showAway } from './economy.js';
import { createBoosts, createTasks, createCombo, createCipher } from './earn.js';

const root = document.documentElement;
const $ = (id) => document.getElementById(id);
const REFRESH_AFTER_HIDDEN_MS = 30000;

const ICONS = {
  tap: '<circle cx="12" cy="12" r="8.5"/><path d="M7.5 12c1.5-2 3-2 4.5 0s3 2 4.5 0"/>',
  top: '<path d="M8 4h8v4a4 4 0 0 1-8 0zM8 6H5v1a3 3 0 0 0 3 3M16 6h3v1a3 3 0 0 1-3 3M12 12v4M8.5 20h7M10 16h4l.5 4h-5z"/>',
  upgrades: '<path d="M4 20h16M7 16v-4M12 16V8M17 16V4M14.5 6.5 17 4l2.5 2.5"/>',
  tasks: '<path d="M9 6h11M9 12h11M9 18h11M3.5 6l1.5 1.5L7.5 5M3.5 12l1.5 1.5 2.5-2.5M4 18h2"/>',
  friends: '<circle cx="9" cy="8" r="3.5"/><path d="M2.5 20a6.5 6.5 0 0 1 13 0M16 4.6a3.5 3.5 0 0 1 0 6.8M18 14.2a6.5 6.5 0 0 1 3.5 5.8"/>',
  wallet: '<path d="M4 8.5A2.5 2.5 0 0 1 6.5 6H18a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H6.5A2.5 2.5 0 0 1 4 17.5zM5.2 6.6l9.4-3.3a1.5 1.5 0 0 1 2 1.4V6M20 11h-3.5a2 2 0 0 0 0 4H20"/>',
};

initTelegram();
setLang(tgLanguage || navigator.language);
translate();

let me = {};
let booted = false;
let hiddenAt = 0;

const sync = new TapSync({
  send: (batch, { keepalive }) => api('/taps', { method: 'POST', body: batch, keepalive }),
  store: { get: storageGet, set: storageSet },
  onChange: () => {
    home.update();
    upgrades.update();
    boosts.update();
  },
  onNotice: (key, vars) => home.notice(key, vars, key === 'too_fast' || key === 'low_energy' || key === 'refused' ? 3500 : 0),
  onFatal: (kind) => fatal(kind),
});
const home = createHome(sync);
const top = createTop(sync, () => me);
const wallet = createWallet(sync, () => me, (kind) => fatal(kind));
// A purchase answers the player state: new profit per hour (the balance went through sync.reconcile).
const onState = (state) => {
  me = { ...me, ...state };
  home.setMe(me);
};
const onFatal = (kind) => fatal(kind);
const upgrades = createUpgrades(sync, onState, onFatal, {
  loaded: () => combo.render(),
  bought: () => combo.load(), // a purchase may reveal a combo card
});
const combo = createCombo(sync, onFatal, () => upgrades.names());
const boosts = createBoosts(sync, onState, onFatal);
const tasks = createTasks(sync, onFatal, (id) => go(id));
const cipher = createCipher(sync, onFatal);
const daily = createDaily(sync, () => me, (key, vars, ms) => home.notice(key, vars, ms), onFatal);
const friends = createFriends(sync, onFatal);

// The screens. To add a tab: a <section id="screen-ID" role="tabpanel"> in
// index.html, a `tab_ID` string in i18n.js, an icon above, and one entry here
// (`bar: false`: a screen opened from another one, with no tab). `sub` screens
// show Telegram's BackButton and get a browser history entry, so either back
// returns to the Tap screen; `onHide` runs when another screen is picked.
const TABS = [
  { id: 'tap', onShow: () => {
    home.shown();
    daily.render();
  } },
  { id: 'upgrades', sub: true, onShow: () => {
    upgrades.show();
    combo.show();
  }, onHide: () => upgrades.hide() },
  { id: 'friends', sub: true, onShow: () => friends.show() },
  { id: 'tasks', sub: true, onShow: () => tasks.show() },
  { id: 'top', sub: true, onShow: () => top.show() },
  { id: 'wallet', sub: true, onShow: () => wallet.show(), onHide: () => wallet.hide() },
  { id: 'boosts', sub: true, bar: false, onShow: () => boosts.show(), onHide: () => boosts.hide() },
  { id: 'cipher', sub: true, bar: false, onShow: () => cipher.show(), onHide: () => cipher.hide() },
];
const BAR = TABS.filter((x) => x.bar !== false);
let current = 'tap';

function buildTabs() {
  const nav = $('tabs');
  for (const tab of BAR) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'tab';
    b.id = `tab-${tab.id}`;
    b.dataset.testid = `tab-${tab.id}`;
    b.setAttribute('role', 'tab');
    b.setAttribute('aria-controls', `screen-${tab.id}`);
    b.setAttribute('aria-selected', String(tab.id === current));
    b.tabIndex = tab.id === current ? 0 : -1;
    b.innerHTML = `<svg viewBox="0 0 24 24" aria-hidden="true">${ICONS[tab.id] || ''}</svg><span data-i18n="tab_${tab.id}"></span>`;
    b.lastChild.textContent = t(`tab_${tab.id}`);
    b.addEventListener('click', () => go(tab.id));
    nav.append(b);
  }
  nav.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    const i = Math.max(0, BAR.findIndex((x) => x.id === current));
    const next = BAR[(i + (e.key === 'ArrowRight' ? 1 : BAR.length - 1)) % BAR.length];
    go(next.id);
    $(`tab-${next.id}`).focus();
  });
}

/** Shows a screen (no history change). */
function show(id) {
  const tab = TABS.find((x) => x.id === id) || TABS[0];
  const prev = TABS.find((x) => x.id === current);
  if (prev && prev !== tab && prev.onHide) prev.onHide();
  current = tab.id;
  for (const x of TABS) {
    const on = x.id === tab.id;
    const screen = $(`screen-${x.id}`);
    if (screen) screen.hidden = !on;
    const b = $(`tab-${x.id}`);
    if (!b) continue;
    b.setAttribute('aria-selected', String(on));
    b.tabIndex = on ? 0 : -1;
  }
  setBackButton(tab.sub ? back : null);
  if (tab.onShow) tab.onShow();
}

/**
 * Goes to a screen picked in the app. A sub-screen entered from the Tap screen
 * pushes one history entry (replaced while moving between sub-screens), so the
 * browser's back, like Telegram's BackButton, returns to the Tap screen.
 */
function go(id) {
  const tab = TABS.find((x) => x.id === id) || TABS[0];
  const mine = history.state?.tw;
  try {
    if (tab.sub && !mine) history.pushState({ tw: tab.id }, '');
    else if (mine) history.replaceState({ tw: tab.id }, '');
  } catch {
    /* history unavailable (sandboxed frame): in-app navigation still works */
  }
  show(tab.id);
}

/** BackButton, Escape: the Tap screen, through the history entry when there is one. */
function back() {
  if (history.state?.tw && history.state.tw !== 'tap') history.back();
  else go('tap');
}

addEventListener('popstate', (e) => {
  if (root.dataset.state !== 'ready') return;
  const id = e.state?.tw || 'tap';
  if (id !== current) show(id);
});
$('open-boosts').addEventListener('click', () => go('boosts'));
$('open-cipher').addEventListener('click', () => go('cipher'));

const FATAL = {
  tg: ['tg_title', 'tg_text', false],
  net: ['net_title', 'net_text', true],
  expired: ['expired_title', 'expired_text', false],
  banned: ['banned_title', 'banned_text', false],
};

function fatal(kind) {
  const [title, text, retry] = FATAL[kind] || FATAL.net;
  $('fatal-title').textContent = t(title);
  $('fatal-text').textContent = t(text);
  $('fatal-retry').hidden = !retry;
  $('fatal').dataset.kind = kind;
  $('fatal').hidden = false;
  $('boot').hidden = true;
  $('app').hidden = true;
  setBackButton(null);
  setMainButton(null);
  root.dataset.state = 'fatal';
}

function kindOf(e) {
  if (e?.code === 'not_in_telegram') return 'tg';
  if (e?.status === 401) return 'expired';
  if (e?.status === 403) return 'banned';
  return 'net';
}

async function boot() {
  root.dataset.state = 'loading';
  $('fatal').hidden = true;
  $('boot').hidden = false;
  try {
    await login();
    me = await api('/me');
    // A demo player's language_code is the demo login's default, not the person's.
    if (!tgLanguage && !isDemo() && me.language_code && setLang(me.language_code)) translate();
  } catch (e) {
    fatal(kindOf(e));
    return;
  }
  try {
    sync.load(me, `tapwave.taps.${me.id}`);
    home.setMe(me);
    if (!booted) {
      booted = true;
      buildTabs();
      setInterval(() => sync.tick(), 1000);
    }
    $('boot').hidden = true;
    $('app').hidden = false;
    show(current);
    root.dataset.state = 'ready';
    sync.tick();
    showAway(me);
  } catch (e) {
    console.error(e);
    fatal('net');
  }
}

async function refresh() {
  if (sync.unsent > 0) return;
  try {
    const fresh = await api('/me');
    if (sync.resync(fresh)) {
      me = fresh;
      home.setMe(me);
      showAway(fresh);
    }
  } catch {
    /* the next tap batch will tell */
  }
}

$('fatal-retry').addEventListener('click', () => boot());

document.addEventListener('visibilitychange', () => {
  if (root.dataset.state !== 'ready') return;
  if (document.visibilityState === 'hidden') {
    hiddenAt = Date.now();
    sync.flushNow();
  } else {
    sync.tick();
    if (hiddenAt && Date.now() - hiddenAt > REFRESH_AFTER_HIDDEN_MS) refresh();
    hiddenAt = 0;
  }
});
addEventListener('pagehide', () => {
  if (root.dataset.state === 'ready') sync.flushNow();
});
addEventListener('online', () => sync.retrySoon());
addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && TABS.find((x) => x.id === current)?.sub) back();
});

// A bug should never leave a blank screen: say so, and keep the game going.
function oops() {
  if (root.dataset.state === 'ready') home.notice('oops', null, 4000);
}
addEventListener('error', oops);
addEventListener('unhandledrejection', oops);

boot();
