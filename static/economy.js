// The economy screens: Upgrades (cards to buy), the daily reward (on the Tap
// screen), Friends (the invite link and who came with it), and the "while you
// were away" sheet. Every answer that carries the balance goes through
// sync.reconcile, like the wallet's, so taps on their way are never lost.

import { api, storageGet, storageSet } from './api.js';
import { t, fmt } from './i18n.js';
import { inTelegram, hasMainButton, setMainButton, haptic, hapticNotice, openTelegramLink } from './tg.js';

const $ = (id) => document.getElementById(id);
export const num = (v) => (Number.isFinite(Number(v)) ? Math.floor(Number(v)) : 0);

export function node(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

/**
 * The friendly line for a failed request: ours for a code we know (x_<code>),
 * else the server's own sentence for a refusal.
 */
export function errorText(e, vars) {
  const code = e?.code || '';
  if (e?.status === 0) return t('e_offline');
  const key = `x_${code}`;
  const s = t(key, vars);
  if (s !== key && e?.status < 500) return s;
  if (e?.status === 429) return t('e_rate');
  if (e?.status === 401) return t('e_expired');
  if ((e?.status ?? 500) >= 500) return t('e_server');
  return e?.message || t('e_unknown', { code });
}

/** 401/403 end the session: the fatal screen. */
export function fatalIf(e, onFatal) {
  if (e?.status === 401 || e?.status === 403) onFatal(e.status === 403 ? 'banned' : 'expired');
}

export function say(p, tone, text, code = '') {
  p.textContent = text || '';
  p.dataset.tone = tone;
  p.dataset.code = code;
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.cssText = 'position:fixed;opacity:0;top:0;left:0';
    document.body.append(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    ta.remove();
    return ok;
  }
}

/** "While you were away you earned N": shown once per answer that credited some. */
export function showAway(state) {
  const n = num(state?.while_away);
  if (n <= 0) return;
  const sheet = $('away');
  $('away-text').textContent = t('away_text', { n: fmt(n) });
  sheet.dataset.value = String(n);
  sheet.hidden = false;
  hapticNotice('success');
  $('away-ok').focus();
}

const hideAway = () => {
  $('away').hidden = true;
};
$('away-ok').addEventListener('click', hideAway);
$('away').addEventListener('click', (e) => {
  if (e.target === e.currentTarget) hideAway();
});
addEventListener('keydown', (e) => {
  if (e.key === 'Escape') hideAway();
});

/**
 * sync: the TapSync; onState(state): a fresh player state (a purchase's answer);
 * hooks.loaded(cards) after every load, hooks.bought(card) after a purchase.
 */
export function createUpgrades(sync, onState, onFatal, hooks = {}) {
  const list = $('up-list');
  const status = $('up-status');
  const msg = $('up-msg');
  let cards = null;
  let buying = null;
  let picked = null;
  let visible = false;
  let loading = null;

  const fatal = (e) => fatalIf(e, onFatal);

  function card(c) {
    const max = c.next_cost == null;
    const cost = num(c.next_cost);
    const short = !max && sync.balance < cost;
    const li = node('li', 'up');
    li.dataset.testid = 'upgrade';
    li.dataset.id = c.id;
    li.dataset.level = String(num(c.level));
    li.dataset.cost = max ? '' : String(cost);
    if (picked === c.id) li.classList.add('picked');
    const head = node('div', 'up-head');
    head.append(node('b', 'up-name', c.name), node('span', 'up-lvl', max ? t('up_max') : t('level', { n: fmt(num(c.level)) })));
    const income = node('p', 'up-inc', t('up_income', { n: fmt(num(c.income_per_hour)) }));
    if (!max) income.append(' ', node('span', 'up-next', t('up_next', { n: fmt(num(c.next_income_per_hour)) })));
    const b = node('button', 'btn up-buy');
    b.type = 'button';
    b.dataset.testid = 'upgrade-buy';
    const busy = buying === c.id;
    b.disabled = max || short || !!buying;
    b.setAttribute('aria-busy', String(busy));
    if (max) b.textContent = t('up_max');
    else {
      b.innerHTML = '<span class="coin-mini" aria-hidden="true"></span>';
      b.append(busy ? t('up_buying') : fmt(cost));
      b.setAttribute('aria-label', t(short ? 'up_buy_short' : 'up_buy_label', { name: c.name, n: fmt(cost), m: fmt(cost - sync.balance) }));
    }
    b.addEventListener('click', () => (hasMainButton() ? pick(c) : buy(c)));
    li.append(head, income, b);
    return li;
  }

  function render() {
    if (!cards) return;
    const groups = new Map();
    for (const c of cards) {
      const k = String(c.category || '');
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(c);
    }
    const frag = document.createDocumentFragment();
    for (const [cat, items] of groups) {
      const sec = node('section', 'up-group');
      const h = node('h2', 'up-cat', t(`cat_${cat}`) === `cat_${cat}` ? cat : t(`cat_${cat}`));
      const ul = node('ul', 'up-cards');
      for (const c of items) ul.append(card(c));
      sec.append(h, ul);
      frag.append(sec);
    }
    list.textContent = '';
    list.append(frag);
    status.textContent = cards.length ? '' : t('up_empty');
    mainButton();
  }

  function mainButton() {
    if (!visible || !hasMainButton()) return;
    const c = picked && cards?.find((x) => x.id === picked);
    if (!c || c.next_cost == null) {
      setMainButton(null);
      return;
    }
    const cost = num(c.next_cost);
    setMainButton({
      text: buying ? t('up_buying') : t('up_confirm', { name: c.name, n: fmt(cost) }),
      active: !buying && sync.balance >= cost,
      progress: !!buying,
      onClick: () => buy(c),
    });
  }

  function pick(c) {
    haptic('light');
    picked = picked === c.id ? null : c.id;
    render();
  }

  async function load() {
    if (loading) return loading;
    if (!cards) status.textContent = t('loading');
    loading = (async () => {
      try {
        const data = await api('/upgrades');
        cards = Array.isArray(data) ? data : [];
        render();
        hooks.loaded?.(cards);
      } catch (e) {
        fatal(e);
        if (!cards) {
          status.textContent = t('up_error');
          const r = node('button', 'btn small', t('retry'));
          r.type = 'button';
          r.addEventListener('click', load);
          status.append(' ', r);
        }
      } finally {
        loading = null;
      }
    })();
    return loading;
  }

  async function buy(c) {
    if (buying || c.next_cost == null) return;
    buying = c.id;
    say(msg, 'info', '');
    render();
    const cost = num(c.next_cost);
    haptic('medium');
    try {
      await sync.idle(3000); // taps on their way count towards the balance
      const mark = sync.mark;
      const state = await api(`/upgrades/${encodeURIComponent(c.id)}/buy`, { method: 'POST' });
      sync.reconcile(state.balance, mark);
      onState(state);
      hapticNotice('success');
      say(msg, 'ok', t('up_bought', { name: c.name, n: fmt(num(c.level) + 1) }), 'bought');
      picked = null;
      buying = null;
      hooks.bought?.(c);
      await load();
      showAway(state);
    } catch (e) {
      fatal(e);
      hapticNotice('error');
      say(msg, 'error', errorText(e, { n: fmt(cost), name: c.name }), e?.code || '');
      if (e?.status === 409 || e?.status === 404) load();
    } finally {
      buying = null;
      render();
    }
  }

  return {
    show() {
      visible = true;
      say(msg, 'info', '');
      render();
      load();
    },
    hide() {
      visible = false;
      picked = null;
      setMainButton(null);
    },
    /** Card id → name, of the cards loaded so far. */
    names: () => new Map((cards || []).map((c) => [c.id, c.name])),
    /** The balance moved (taps): re-check which cards are affordable. */
    update() {
      if (!visible || !cards || buying) return;
      const can = cards.map((c) => c.next_cost != null && sync.balance >= num(c.next_cost)).join();
      if (can !== list.dataset.can) {
        list.dataset.can = can;
        render();
      }
    },
  };
}

const utcDay = () => new Date().toISOString().slice(0, 10);

/** The daily reward button on the Tap screen. notice(key, vars, ms) speaks on the Tap screen. */
export function createDaily(sync, getMe, notice, onFatal) {
  const btn = $('daily');
  const text = $('daily-text');
  let claiming = false;
  const key = () => `tapwave.daily.${getMe().id}`;

  function saved() {
    try {
      const s = JSON.parse(storageGet(key()) || 'null');
      return s && typeof s === 'object' ? s : {};
    } catch {
      return {};
    }
  }

  function render() {
    const s = saved();
    const today = s.date === utcDay();
    const yesterday = s.date === new Date(Date.now() - 864e5).toISOString().slice(0, 10);
    btn.dataset.state = today ? 'claimed' : 'ready';
    btn.dataset.day = today && s.day ? String(s.day) : '';
    if (today) {
      text.textContent = s.day ? t('daily_done', { d: fmt(s.day), n: fmt(s.reward || 0) }) : t('daily_done_short');
    } else {
      text.textContent = yesterday && s.day ? t('daily_ready_day', { d: fmt(s.day + 1) }) : t('daily_ready');
    }
    btn.setAttribute('aria-busy', String(claiming));
  }

  async function claim() {
    if (claiming) return;
    claiming = true;
    haptic('light');
    render();
    try {
      await sync.idle(3000);
      const mark = sync.mark;
      const r = await api('/daily', { method: 'POST' });
      sync.reconcile(r.balance, mark);
      storageSet(key(), JSON.stringify({ date: utcDay(), day: num(r.day), reward: num(r.reward) }));
      hapticNotice('success');
      notice('daily_got', { n: fmt(num(r.reward)), d: fmt(num(r.day)) }, 4000);
    } catch (e) {
      if (e?.status === 401 || e?.status === 403) onFatal(e.status === 403 ? 'banned' : 'expired');
      hapticNotice('error');
      if (e?.code === 'already_claimed') {
        const s = saved();
        if (s.date !== utcDay()) storageSet(key(), JSON.stringify({ date: utcDay() }));
        const h = new Date();
        const left = Math.max(1, Math.ceil((Date.UTC(h.getUTCFullYear(), h.getUTCMonth(), h.getUTCDate() + 1) - h) / 36e5));
        notice('daily_already', { h: left }, 4000);
      } else {
        notice('daily_failed', { e: errorText(e) }, 4000);
      }
    } finally {
      claiming = false;
      render();
    }
  }

  btn.addEventListener('click', claim);
  return { render };
}

/** The Friends screen. */
export function createFriends(sync, onFatal) {
  const el = {
    collect: $('ref-collect'),
    link: $('ref-link'),
    share: $('ref-share'),
    count: $('ref-count'),
    earned: $('ref-earned'),
    list: $('ref-list'),
    status: $('ref-status'),
    msg: $('ref-msg'),
  };
  let data = null;
  let loading = null;
  let collecting = false;
  const isUrl = () => /^https:\/\/t\.me\//.test(data?.link || '');

  function render() {
    if (!data) return;
    el.link.textContent = data.link || '';
    el.link.dataset.value = data.link || '';
    el.count.textContent = fmt(data.count);
    el.count.dataset.value = String(num(data.count));
    el.earned.textContent = fmt(data.earned);
    el.share.disabled = !data.link;
    el.share.lastChild.textContent = t(inTelegram && isUrl() ? 'ref_share' : 'ref_copy');
    const due = num(data.share_due);
    el.collect.hidden = due <= 0;
    el.collect.disabled = collecting;
    el.collect.dataset.value = String(due);
    el.collect.textContent = t('ref_collect', { n: fmt(due) });
    const friends = Array.isArray(data.friends) ? data.friends : [];
    el.list.textContent = '';
    for (const f of friends) {
      const li = node('li', 'row');
      li.dataset.id = String(f.id);
      const who = String(f.name || '').trim() || t('player');
      const av = node('span', 'avatar', Array.from(who)[0].toUpperCase());
      av.setAttribute('aria-hidden', 'true');
      av.style.setProperty('--h', String((num(f.id) * 47) % 360));
      const score = node('span', 'score', `+${fmt(f.earned)}`);
      score.setAttribute('aria-label', t('ref_from', { n: fmt(f.earned) }));
      li.append(av, node('span', 'name', who), score);
      el.list.append(li);
    }
    el.status.textContent = friends.length ? '' : t('ref_empty');
  }

  async function load() {
    if (loading) return loading;
    if (!data) el.status.textContent = t('loading');
    loading = (async () => {
      try {
        data = await api('/referrals');
        render();
      } catch (e) {
        if (e?.status === 401 || e?.status === 403) onFatal(e.status === 403 ? 'banned' : 'expired');
        if (!data) el.status.textContent = t('ref_error');
      } finally {
        loading = null;
      }
    })();
    return loading;
  }

  el.collect.addEventListener('click', async () => {
    if (collecting) return;
    collecting = true;
    haptic('medium');
    render();
    try {
      await sync.idle(3000);
      const mark = sync.mark;
      const r = await api('/referrals/collect', { method: 'POST' });
      sync.reconcile(r.balance, mark);
      hapticNotice('success');
      say(el.msg, 'ok', t('ref_collected', { n: fmt(num(r.collected)) }), 'collected');
      if (data) data.share_due = 0;
    } catch (e) {
      fatalIf(e, onFatal);
      hapticNotice('error');
      say(el.msg, 'error', errorText(e), e?.code || '');
    } finally {
      collecting = false;
      render();
      load();
    }
  });

  el.share.addEventListener('click', async () => {
    if (!data?.link) return;
    haptic('light');
    if (inTelegram && isUrl()) {
      const url = `https://t.me/share/url?url=${encodeURIComponent(data.link)}&text=${encodeURIComponent(t('ref_text'))}`;
      if (openTelegramLink(url)) return;
    }
    const ok = await copy(data.link);
    say(el.msg, ok ? 'ok' : 'error', t(ok ? 'ref_copied' : 'ref_copy_failed'), ok ? 'copied' : 'copy_failed');
  });

  return {
    show() {
      say(el.msg, 'info', '');
      render();
      load();
    },
  };
}
