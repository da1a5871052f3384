// More ways to earn: Boosts (free refills, multitap, energy limit), Tasks, the
// daily combo (on the Upgrades screen) and the daily cipher (Morse by taps).
// Every answer that carries the balance goes through sync.reconcile.

import { api } from './api.js';
import { t, fmt } from './i18n.js';
import { haptic, hapticNotice, openLink, openTelegramLink } from './tg.js';
import { node, num, say, errorText, fatalIf } from './economy.js';
import { MORSE, decode, symbol, LETTER_GAP_MS } from './morse.js';

const $ = (id) => document.getElementById(id);

/** t(key, vars), or `fallback` when the key is not translated. */
function tr(key, vars, fallback) {
  const s = t(key, vars);
  return s === key ? fallback : s;
}

function button(cls, text, testid, onClick) {
  const b = node('button', `btn ${cls}`, text);
  b.type = 'button';
  if (testid) b.dataset.testid = testid;
  b.addEventListener('click', onClick);
  return b;
}

function coinLabel(b, n) {
  b.innerHTML = '<span class="coin-mini" aria-hidden="true"></span>';
  b.append(fmt(n));
}

/** Runs `fn` (a request answering the balance) after taps on their way, then reconciles. */
async function paid(sync, fn) {
  await sync.idle(3000);
  const mark = sync.mark;
  const r = await fn();
  return [r, mark];
}

/**
 * A small list screen: load() GETs `path` into `items` and calls render();
 * the error line offers a retry. Shared by Boosts and Tasks.
 */
function listScreen(path, statusEl, errorKey, render, onFatal) {
  const s = { items: null, loading: null };
  s.load = () => {
    if (s.loading) return s.loading;
    if (!s.items) statusEl.textContent = t('loading');
    s.loading = (async () => {
      try {
        const data = await api(path);
        s.items = Array.isArray(data) ? data : [];
        statusEl.textContent = '';
        render();
      } catch (e) {
        fatalIf(e, onFatal);
        if (!s.items) {
          statusEl.textContent = t(errorKey);
          statusEl.append(' ', button('small', t('retry'), '', s.load));
        }
      } finally {
        s.loading = null;
      }
    })();
    return s.loading;
  };
  return s;
}

/** The Boosts screen. onState(state): a boost's answer (the player state). */
export function createBoosts(sync, onState, onFatal) {
  const list = $('bo-list');
  const msg = $('bo-msg');
  let busy = null;
  let visible = false;
  const s = listScreen('/boosts', $('bo-status'), 'bo_error', render, onFatal);

  function row(b) {
    const refill = b.id === 'refill';
    const top = b.next_cost == null;
    const cost = num(b.next_cost);
    const name = tr(`bo_name_${b.id}`, null, b.name);
    const li = node('li', 'item');
    li.dataset.testid = 'boost';
    li.dataset.id = b.id;
    li.dataset.level = String(num(b.level));
    li.dataset.value = String(num(b.value));
    const text = node('div', 'item-text');
    const info = refill
      ? t('bo_refill_info', { n: fmt(b.value), m: fmt(b.max_level) })
      : top
        ? t('bo_at_max', { n: fmt(b.value) })
        : tr(`bo_${b.id}_info`, { n: fmt(b.value), m: fmt(b.next_value) }, t('bo_at_max', { n: fmt(b.value) }));
    text.append(node('b', 'item-title', name), node('span', 'item-sub', refill ? info : `${t('level', { n: fmt(b.level) })} · ${info}`));
    const btn = button('item-btn', '', 'boost-buy', () => buy(b, name));
    if (refill) btn.textContent = t('bo_refill_use');
    else if (top) btn.textContent = t('up_max');
    else {
      coinLabel(btn, cost);
      btn.setAttribute('aria-label', t('bo_buy_label', { name, l: fmt(num(b.level) + 1), n: fmt(cost) }));
    }
    btn.disabled = !!busy || top || (!refill && sync.balance < cost);
    btn.setAttribute('aria-busy', String(busy === b.id));
    li.append(text, btn);
    return li;
  }

  function render() {
    if (!s.items) return;
    list.textContent = '';
    for (const b of s.items) list.append(row(b));
    list.dataset.can = can();
  }

  const can = () => (s.items || []).map((b) => b.next_cost != null && sync.balance >= num(b.next_cost)).join();

  async function buy(b, name) {
    if (busy || b.next_cost == null) return;
    busy = b.id;
    haptic('medium');
    say(msg, 'info', '');
    render();
    try {
      const [state, mark] = await paid(sync, () => api(`/boosts/${encodeURIComponent(b.id)}/buy`, { method: 'POST' }));
      sync.boosted(state, mark);
      onState(state);
      hapticNotice('success');
      say(msg, 'ok', b.id === 'refill' ? t('bo_refilled') : t('bo_bought', { name, n: fmt(num(b.level) + 1) }), b.id);
    } catch (e) {
      fatalIf(e, onFatal);
      hapticNotice('error');
      say(msg, 'error', errorText(e, { name, n: fmt(num(b.next_cost)) }), e?.code || '');
    } finally {
      busy = null;
      await s.load();
      render();
    }
  }

  return {
    show() {
      visible = true;
      say(msg, 'info', '');
      render();
      s.load();
    },
    hide() {
      visible = false;
    },
    update() {
      if (visible && !busy && s.items && can() !== list.dataset.can) render();
    },
  };
}

/** The Tasks screen. goTo(screen) opens another screen (Friends, Wallet). */
export function createTasks(sync, onFatal, goTo) {
  const list = $('ta-list');
  const msg = $('ta-msg');
  const opened = new Set();
  let busy = null;
  const s = listScreen('/tasks', $('ta-status'), 'ta_error', render, onFatal);

  const chatUrl = (chat) => (/^@\w{4,}$/.test(chat || '') ? `https://t.me/${chat.slice(1)}` : '');
  const why = (task) =>
    task.kind === 'invite' ? t('ta_invite', { n: fmt(task.count || 1) })
    : task.kind === 'wallet' ? t('ta_wallet')
    : task.kind === 'channel' ? t('ta_channel', { chat: task.chat || '' })
    : t('ta_link');

  function open(task) {
    haptic('light');
    const url = task.kind === 'channel' ? chatUrl(task.chat) : String(task.url || '');
    if (/^https:\/\/t\.me\//.test(url) && openTelegramLink(url)) {
      /* opened inside Telegram */
    } else if (/^https?:\/\//.test(url)) openLink(url);
    opened.add(task.id);
    render();
    // A link's first check starts its delay on the server.
    if (task.kind === 'link') check(task, true);
  }

  function row(task) {
    const li = node('li', 'item');
    li.dataset.testid = 'task';
    li.dataset.id = task.id;
    li.dataset.kind = task.kind;
    li.dataset.done = String(!!task.done);
    const text = node('div', 'item-text');
    const reward = node('span', 'item-reward');
    reward.innerHTML = '<span class="coin-mini" aria-hidden="true"></span>';
    reward.append(`+${fmt(task.reward)}`);
    text.append(node('b', 'item-title', task.title), reward);
    if (!task.done) text.append(node('span', 'item-sub', why(task)));
    const acts = node('div', 'item-acts');
    if (task.done) {
      acts.append(node('span', 'done', t('ta_done')));
    } else {
      const link = task.kind === 'link' || (task.kind === 'channel' && chatUrl(task.chat));
      if (link) acts.append(button(opened.has(task.id) ? 'ghost item-btn' : 'item-btn', t(task.kind === 'link' ? 'ta_open' : 'ta_join'), 'task-open', () => open(task)));
      if (task.kind === 'invite') acts.append(button('ghost item-btn', t('ta_go_friends'), 'task-go', () => goTo('friends')));
      if (task.kind === 'wallet') acts.append(button('ghost item-btn', t('ta_go_wallet'), 'task-go', () => goTo('wallet')));
      if (!link || opened.has(task.id)) acts.append(button('item-btn', t('ta_check'), 'task-check', () => check(task)));
    }
    for (const b of acts.querySelectorAll('button')) b.disabled = !!busy;
    li.append(text, acts);
    return li;
  }

  function render() {
    if (!s.items) return;
    list.textContent = '';
    for (const task of s.items) list.append(row(task));
    if (!s.items.length) $('ta-status').textContent = t('ta_empty');
  }

  async function check(task, quiet = false) {
    if (busy) return;
    busy = task.id;
    if (!quiet) {
      haptic('light');
      say(msg, 'info', '');
    }
    render();
    try {
      const [r, mark] = await paid(sync, () => api(`/tasks/${encodeURIComponent(task.id)}/check`, { method: 'POST' }));
      if (r.done) {
        sync.reconcile(r.balance, mark);
        task.done = true;
        hapticNotice('success');
        say(msg, 'ok', t('ta_got', { n: fmt(num(r.reward)), title: task.title }), 'done');
      } else if (!quiet) {
        hapticNotice('error');
        say(msg, 'error', task.kind === 'link' ? t('ta_wait') : t('ta_not_yet', { why: why(task) }), 'not_done');
      }
    } catch (e) {
      fatalIf(e, onFatal);
      hapticNotice('error');
      const own = e?.status >= 400 && e?.status < 500 && e?.status !== 401 && e?.message;
      say(msg, 'error', own || errorText(e), e?.code || '');
    } finally {
      busy = null;
      render();
    }
  }

  return {
    show() {
      say(msg, 'info', '');
      render();
      s.load();
    },
  };
}

/** The daily combo panel on the Upgrades screen. names(): Map of card id → name. */
export function createCombo(sync, onFatal, names) {
  const el = { box: $('combo'), hint: $('combo-hint'), slots: $('combo-slots'), claim: $('combo-claim'), msg: $('combo-msg') };
  let data = null;
  let claiming = false;
  let seq = 0;

  function render() {
    el.box.hidden = !data;
    if (!data) return;
    const size = Math.max(0, num(data.size));
    const found = Array.isArray(data.found) ? data.found : [];
    const all = found.length >= size;
    el.box.dataset.found = String(found.length);
    el.box.dataset.claimed = String(!!data.claimed);
    el.hint.textContent = data.claimed ? t('co_claimed', { n: fmt(data.reward) }) : t('co_hint', { n: size, r: fmt(data.reward) });
    el.slots.textContent = '';
    const map = names();
    for (let i = 0; i < size; i++) {
      const id = found[i];
      const name = id == null ? '' : map.get(id) || id;
      const li = node('li', id == null ? 'slot' : 'slot found', id == null ? '?' : name);
      li.dataset.testid = 'combo-slot';
      li.dataset.id = id ?? '';
      li.setAttribute('aria-label', t('co_slot', { i: i + 1, name: name || t('co_hidden') }));
      el.slots.append(li);
    }
    el.claim.hidden = !all || !!data.claimed;
    el.claim.disabled = claiming;
    el.claim.textContent = t('co_claim', { n: fmt(data.reward) });
  }

  async function load() {
    const my = ++seq;
    try {
      const d = await api('/combo');
      if (my === seq) data = d;
    } catch (e) {
      fatalIf(e, onFatal);
      if (e?.status === 404) data = null; // no combo in this game
    }
    render();
  }

  el.claim.addEventListener('click', async () => {
    if (claiming || !data) return;
    claiming = true;
    haptic('medium');
    render();
    try {
      const [r, mark] = await paid(sync, () => api('/combo', { method: 'POST' }));
      sync.reconcile(r.balance, mark);
      data.claimed = true;
      hapticNotice('success');
      say(el.msg, 'ok', t('co_got', { n: fmt(num(r.reward)) }), 'claimed');
    } catch (e) {
      fatalIf(e, onFatal);
      hapticNotice('error');
      say(el.msg, 'error', errorText(e), e?.code || '');
    } finally {
      claiming = false;
      render();
      load();
    }
  });

  return {
    load,
    render,
    show() {
      say(el.msg, 'info', '');
      load();
    },
  };
}

const pretty = (code) => code.replace(/\./g, '·').replace(/-/g, '–');

/** The daily cipher: the word tapped in Morse on a big key. */
export function createCipher(sync, onFatal) {
  const el = {
    game: $('ci-game'), status: $('ci-status'), info: $('ci-info'), word: $('ci-word'), code: $('ci-code'),
    key: $('ci-key'), back: $('ci-back'), submit: $('ci-submit'), msg: $('ci-msg'), chart: $('ci-chart'),
  };
  let data = null;
  let word = '';
  let code = '';
  let downAt = 0;
  let timer = 0;
  let busy = false;

  const len = () => Math.max(0, num(data?.length));
  const open = () => data && !data.solved && num(data.attempts_left) > 0;

  function render() {
    el.game.hidden = !data;
    if (!data) return;
    el.info.textContent = data.solved ? t('ci_solved') : t('ci_info', { n: len(), r: fmt(data.reward), k: fmt(data.attempts_left) });
    el.game.dataset.solved = String(!!data.solved);
    el.word.textContent = '';
    el.word.dataset.value = word;
    for (let i = 0; i < len(); i++) el.word.append(node('li', word[i] ? 'slot found' : 'slot', word[i] || ''));
    el.code.textContent = pretty(code) || '\u00a0';
    el.code.dataset.value = code;
    el.key.disabled = !open() || busy;
    el.back.disabled = !open() || busy || (!word && !code);
    el.submit.disabled = !open() || busy || word.length !== len();
  }

  function endLetter() {
    clearTimeout(timer);
    if (!code) return;
    const ch = decode(code);
    if (!ch) {
      hapticNotice('error');
      say(el.msg, 'error', t('ci_unknown', { code: pretty(code) }), 'unknown_letter');
    } else if (word.length < len()) {
      word += ch;
      say(el.msg, 'info', '');
    }
    code = '';
    render();
  }

  function press(ms) {
    if (!open() || busy) return;
    code += symbol(ms);
    render();
    timer = setTimeout(endLetter, LETTER_GAP_MS);
  }

  function down() {
    if (!open() || busy || downAt) return;
    clearTimeout(timer);
    downAt = performance.now();
    el.key.classList.add('down');
    haptic('light');
  }

  function up() {
    if (!downAt) return;
    const ms = performance.now() - downAt;
    downAt = 0;
    el.key.classList.remove('down');
    press(ms);
  }

  function cancel() {
    downAt = 0;
    el.key.classList.remove('down');
  }

  el.key.addEventListener('pointerdown', (e) => {
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    e.preventDefault();
    try {
      el.key.setPointerCapture(e.pointerId);
    } catch {
      /* not capturable: pointerup still arrives on the key */
    }
    down();
  });
  el.key.addEventListener('pointerup', up);
  el.key.addEventListener('pointercancel', cancel);
  el.key.addEventListener('contextmenu', (e) => e.preventDefault());
  el.key.addEventListener('keydown', (e) => {
    if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) down();
    if (e.key === ' ' || e.key === 'Enter') e.preventDefault();
  });
  el.key.addEventListener('keyup', (e) => {
    if (e.key === ' ' || e.key === 'Enter') up();
  });
  el.key.addEventListener('blur', cancel);

  el.back.addEventListener('click', () => {
    clearTimeout(timer);
    if (code) code = '';
    else word = word.slice(0, -1);
    haptic('light');
    render();
  });

  el.submit.addEventListener('click', async () => {
    if (!open() || busy || word.length !== len()) return;
    busy = true;
    haptic('medium');
    render();
    try {
      const [r, mark] = await paid(sync, () => api('/cipher', { method: 'POST', body: { word } }));
      sync.reconcile(r.balance, mark);
      data.solved = true;
      hapticNotice('success');
      say(el.msg, 'ok', t('ci_got', { n: fmt(num(r.reward)) }), 'solved');
    } catch (e) {
      fatalIf(e, onFatal);
      hapticNotice('error');
      if (e?.code === 'wrong_word' && data) data.attempts_left = Math.max(0, num(data.attempts_left) - 1);
      if (e?.code === 'no_attempts_left' && data) data.attempts_left = 0;
      if (e?.code === 'already_claimed' && data) data.solved = true;
      say(el.msg, 'error', errorText(e, { k: fmt(data?.attempts_left) }), e?.code || '');
      word = '';
    } finally {
      busy = false;
      render();
      load();
    }
  });

  el.chart.parentElement.addEventListener('toggle', () => {
    if (el.chart.childElementCount) return;
    const order = (ch) => (ch > '9' ? ch : `~${ch}`); // letters, then digits
    for (const [c, ch] of Object.entries(MORSE).sort((a, b) => (order(a[1]) < order(b[1]) ? -1 : 1))) {
      const li = node('li', '', ch);
      li.append(node('span', 'mono', pretty(c)));
      el.chart.append(li);
    }
  });

  async function load() {
    if (!data) el.status.textContent = t('loading');
    try {
      data = await api('/cipher');
      el.status.textContent = '';
      if (word.length > len()) word = word.slice(0, len());
    } catch (e) {
      fatalIf(e, onFatal);
      if (e?.status === 404) {
        data = null; // no cipher in this game
        el.status.textContent = t('ci_off');
      } else if (!data) {
        el.status.textContent = t('ci_error');
        el.status.append(' ', button('small', t('retry'), '', load));
      }
    }
    render();
  }

  return {
    show() {
      say(el.msg, 'info', '');
      load();
    },
    hide() {
      clearTimeout(timer);
      cancel();
      code = '';
      render();
    },
  };
}
