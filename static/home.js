// The Tap screen: balance, level, league, the coin, energy and profit per hour.
// Rendering is coalesced into one animation frame; animations are
// transform/opacity only so they stay on the compositor.

import { t, fmt } from './i18n.js';
import { haptic, hapticNotice } from './tg.js';

const $ = (id) => document.getElementById(id);
const MAX_FLOATS = 24;

export function createHome(sync) {
  const el = {
    balance: $('balance'),
    level: $('level'),
    league: $('league'),
    coin: $('coin'),
    notice: $('notice'),
    energy: $('energy'),
    energyNow: $('energy-now'),
    energyMax: $('energy-max'),
    fill: $('energy-fill'),
    profit: $('profit'),
    floats: $('floats'),
  };
  const reduced = matchMedia('(prefers-reduced-motion: reduce)').matches;
  let me = {};
  let shown = {};
  let frame = 0;
  let squash = null;
  let rect = null;
  let noticeTimer = 0;
  let lastEmpty = 0;

  function render() {
    frame = 0;
    const balance = sync.balance;
    const energy = Math.max(0, Math.floor(sync.energy));
    const max = sync.maxEnergy;
    const pending = sync.unsent;
    if (shown.balance !== balance) {
      el.balance.textContent = fmt(balance);
      el.balance.dataset.value = String(balance);
      el.balance.classList.toggle('long', fmt(balance).length > 9);
    }
    if (shown.pending !== pending) el.balance.dataset.pending = String(pending);
    if (shown.energy !== energy || shown.max !== max) {
      el.energyNow.textContent = fmt(energy);
      el.energyMax.textContent = fmt(max);
      el.energy.dataset.value = String(energy);
      el.energy.dataset.max = String(max);
      el.fill.style.transform = `scaleX(${max > 0 ? Math.min(1, energy / max) : 0})`;
      el.energy.setAttribute('aria-label', `${t('energy')} ${fmt(energy)} / ${fmt(max)}`);
    }
    const tired = !sync.canTap;
    if (shown.tired !== tired) el.coin.classList.toggle('tired', tired);
    shown = { balance, pending, energy, max, tired };
  }

  function update() {
    if (!frame) frame = requestAnimationFrame(render);
  }

  function setMe(next) {
    me = next || {};
    el.level.textContent = t('level', { n: fmt(me.level ?? 1) });
    el.league.hidden = !me.league;
    el.league.textContent = me.league ? t('league', { name: me.league }) : '';
    el.profit.textContent = `+${fmt(me.passive_per_hour ?? 0)}`;
    el.profit.dataset.value = String(me.passive_per_hour ?? 0);
    shown = {};
    update();
  }

  function notice(key, vars, ms = 0) {
    clearTimeout(noticeTimer);
    el.notice.textContent = key ? t(key, vars) : '';
    el.notice.classList.toggle('show', !!key);
    if (key && ms) noticeTimer = setTimeout(() => notice(null), ms);
  }

  function coinRect() {
    if (!rect) rect = el.coin.getBoundingClientRect();
    return rect;
  }

  function animate(x, y) {
    const r = coinRect();
    if (!reduced) {
      const dx = Math.max(-1, Math.min(1, (x - r.left - r.width / 2) / (r.width / 2) || 0));
      const dy = Math.max(-1, Math.min(1, (y - r.top - r.height / 2) / (r.height / 2) || 0));
      if (squash) squash.cancel();
      squash = el.coin.animate(
        [
          { transform: `perspective(600px) rotateX(${(-dy * 14).toFixed(1)}deg) rotateY(${(dx * 14).toFixed(1)}deg) scale(0.93)` },
          { transform: 'none' },
        ],
        { duration: 200, easing: 'cubic-bezier(.2,.9,.3,1.2)' },
      );
    }
    const f = document.createElement('span');
    f.className = 'plus';
    f.textContent = `+${fmt(sync.tapPower)}`;
    f.style.left = `${Math.round(x)}px`;
    f.style.top = `${Math.round(y)}px`;
    if (el.floats.childElementCount >= MAX_FLOATS) el.floats.firstElementChild.remove();
    el.floats.append(f);
    const drift = (Math.random() - 0.5) * 30;
    const a = f.animate(
      [
        { transform: 'translate(-50%, -60%) scale(0.8)', opacity: 1 },
        { transform: `translate(calc(-50% + ${drift.toFixed(0)}px), -${reduced ? 60 : 130}px) scale(1.1)`, opacity: 0 },
      ],
      { duration: reduced ? 500 : 850, easing: 'cubic-bezier(.1,.6,.3,1)', fill: 'forwards' },
    );
    a.onfinish = () => f.remove();
  }

  function tapAt(x, y) {
    if (!sync.tap()) {
      const now = Date.now();
      if (now - lastEmpty > 600) {
        lastEmpty = now;
        hapticNotice('warning');
        notice('no_energy', { n: fmt(Math.max(1, sync.energyPerSec)) }, 3500);
        if (!reduced) {
          el.coin.animate(
            [{ transform: 'translateX(0)' }, { transform: 'translateX(-6px)' }, { transform: 'translateX(6px)' }, { transform: 'translateX(0)' }],
            { duration: 240 },
          );
        }
      }
      update();
      return;
    }
    haptic('light');
    animate(x, y);
    update();
  }

  el.coin.addEventListener('pointerdown', (e) => {
    if (e.pointerType === 'mouse' && e.button !== 0) return;
    e.preventDefault();
    tapAt(e.clientX, e.clientY);
  });
  // Keyboard (Enter/Space) clicks have detail 0; pointer clicks were counted on pointerdown.
  el.coin.addEventListener('click', (e) => {
    if (e.detail !== 0) return;
    const r = coinRect();
    tapAt(r.left + r.width / 2, r.top + r.height / 2);
  });
  el.coin.addEventListener('contextmenu', (e) => e.preventDefault());
  addEventListener('resize', () => {
    rect = null;
  });
  addEventListener('scroll', () => {
    rect = null;
  }, { passive: true, capture: true });

  return {
    update,
    setMe,
    notice,
    shown() {
      rect = null;
      shown = {};
      update();
    },
  };
}
