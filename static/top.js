// The Top screen: the leaderboard (all time, coins earned this week, or the player's league),
// with the player's own row highlighted.

import { api } from './api.js';
import { t, fmt } from './i18n.js';

const $ = (id) => document.getElementById(id);
const FRESH_MS = 10000;

function hue(id) {
  let h = 0;
  for (const c of String(id)) h = (h * 31 + c.charCodeAt(0)) % 3600;
  return (h * 47) % 360;
}

function row({ rank, id, name, balance }, mine) {
  const li = document.createElement('li');
  li.className = mine ? 'row me' : 'row';
  li.dataset.id = String(id);
  li.dataset.rank = String(rank);
  li.dataset.balance = String(balance);
  if (mine) {
    li.dataset.me = '';
    li.setAttribute('aria-current', 'true');
  }
  const r = document.createElement('span');
  r.className = rank >= 1 && rank <= 3 ? `rank medal m${rank}` : 'rank';
  r.textContent = fmt(rank);
  r.setAttribute('aria-label', `#${rank}`);
  const av = document.createElement('span');
  av.className = 'avatar';
  av.setAttribute('aria-hidden', 'true');
  av.style.setProperty('--h', hue(id));
  const who = String(name || '').trim() || t('player');
  av.textContent = Array.from(who)[0].toUpperCase();
  const n = document.createElement('span');
  n.className = 'name';
  n.textContent = mine ? `${who} (${t('you')})` : who;
  const b = document.createElement('span');
  b.className = 'score';
  b.textContent = fmt(balance);
  li.append(r, av, n, b);
  return li;
}

export function createTop(sync, getMe) {
  const list = $('leaderboard');
  const status = $('top-status');
  const mine = $('my-rank');
  const picks = document.querySelectorAll('.board-pick');
  let board = 'global';
  let loadedAt = 0;
  let loading = null;

  for (const b of picks) {
    b.addEventListener('click', () => {
      if (b.dataset.board === board) return;
      board = b.dataset.board;
      for (const o of picks) o.setAttribute('aria-pressed', String(o === b));
      list.textContent = '';
      mine.hidden = true;
      if (loading) loading.then(() => load(true));
      else load(true);
    });
  }

  function say(text, retry) {
    status.textContent = text;
    status.hidden = !text;
    if (retry) {
      const btn = document.createElement('button');
      btn.className = 'btn small';
      btn.type = 'button';
      btn.textContent = t('retry');
      btn.addEventListener('click', () => load(true));
      status.append(' ', btn);
    }
  }

  function render(data) {
    const me = getMe();
    const top = Array.isArray(data.top) ? data.top : [];
    const frag = document.createDocumentFragment();
    let found = false;
    for (const p of top) {
      const isMe = String(p.id) === String(me.id);
      if (isMe) found = true;
      frag.append(row(p, isMe));
    }
    const my = data.me || {};
    if (!found && my.rank) {
      const gap = document.createElement('li');
      gap.className = 'gap';
      gap.setAttribute('aria-hidden', 'true');
      gap.textContent = '⋯';
      frag.append(gap, row({ rank: my.rank, id: me.id, name: me.first_name, balance: my.balance ?? 0 }, true));
    }
    list.textContent = '';
    list.append(frag);
    const league = data.league ? `${t('league', { name: data.league })} · ` : '';
    list.dataset.league = data.league || '';
    if (my.rank) {
      mine.hidden = false;
      mine.textContent = `${league}${t('your_rank')}: #${fmt(my.rank)} · ${fmt(my.balance ?? 0)}`;
    } else {
      mine.hidden = !league;
      mine.textContent = league.slice(0, -3);
    }
    say(top.length ? '' : t('top_empty'));
  }

  async function load(force = false) {
    if (loading) return loading;
    if (!force && Date.now() - loadedAt < FRESH_MS) return;
    if (!list.childElementCount) say(t('loading'));
    loading = (async () => {
      try {
        await sync.idle(2500); // so our own row shows the taps just made
        const want = board;
        const data = await api(`/leaderboard?limit=100&board=${want}`);
        if (want !== board) return; // another board was picked meanwhile: it loads next
        loadedAt = Date.now();
        render(data);
      } catch {
        say(t('top_error'), true);
      } finally {
        loading = null;
      }
    })();
    return loading;
  }

  return {
    show: () => load(false),
    relabel() {
      loadedAt = 0;
    },
  };
}
