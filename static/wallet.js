// The Wallet screen: the player's TON wallet (typed in by hand, or connected
// and proven with TON Connect), the claim form with its limits, and the claim
// history. TON Connect UI is loaded from its CDN only when the player taps
// "Connect wallet", and only inside Telegram (or when the page already has it).
//
// A claim's idempotency key is made once per submitted claim and kept (also in
// storage) until the server answers it for good, so a retry after a lost answer
// can never claim twice.

import { api, storageGet, storageSet } from './api.js';
import { t, fmt, getLang } from './i18n.js';
import { inTelegram, hasMainButton, setMainButton, haptic, hapticNotice } from './tg.js';

/** Where TON Connect UI comes from (exposes window.TON_CONNECT_UI). */
export const TONCONNECT_UI_URL = 'https://unpkg.com/@tonconnect/ui@2/dist/tonconnect-ui.min.js';
const LOAD_TIMEOUT_MS = 20000;
const POLL_MS = 15000;
const ON_ITS_WAY = new Set(['pending', 'processing', 'exported']);
// Error codes whose message needs no numbers.
const PLAIN_ERRORS = new Set([
  'invalid_address', 'wallet_taken', 'invalid_proof', 'no_wallet', 'wallet_not_proven', 'claims_paused',
  'daily_cap_reached', 'global_cap_reached', 'invalid_amount', 'idempotency_key_reused',
]);

const $ = (id) => document.getElementById(id);
const num = (v) => (v === null || v === undefined || v === '' || !Number.isFinite(Number(v)) ? null : Math.floor(Number(v)));

/** UQDKbj…gqPuwA: enough of both ends to recognise an address or a hash. */
export function shorten(s, head = 6, tail = 6) {
  const str = String(s || '');
  return str.length <= head + tail + 1 ? str : `${str.slice(0, head)}…${str.slice(-tail)}`;
}

/** 75 -> "1:15", 3725 -> "1:02:05". */
function duration(secs) {
  const s = Math.max(0, Math.ceil(secs));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A fresh idempotency key: 1-64 of A-Za-z0-9-_:. */
function newKey() {
  try {
    if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  } catch {
    return `k${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
  }
}

/** A whole, positive number of coins from what was typed, or null. */
function parseAmount(text) {
  const s = String(text || '').trim();
  if (!/^\d{1,15}$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** Whether a failed request may have been applied, or may work if sent again as is. */
function uncertain(e) {
  const s = e?.status ?? 0;
  return s === 0 || s === 408 || s >= 500 || (s === 429 && e.code !== 'claim_cooldown');
}

let tcLoading = null;

/** Loads TON Connect UI once; resolves with window.TON_CONNECT_UI. */
function loadTonConnect() {
  if (window.TON_CONNECT_UI?.TonConnectUI) return Promise.resolve(window.TON_CONNECT_UI);
  if (!tcLoading) {
    tcLoading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      const timer = setTimeout(() => fail(new Error('timeout')), LOAD_TIMEOUT_MS);
      function fail(err) {
        clearTimeout(timer);
        s.remove();
        tcLoading = null;
        reject(err);
      }
      s.src = TONCONNECT_UI_URL;
      s.async = true;
      s.onload = () => {
        clearTimeout(timer);
        if (window.TON_CONNECT_UI?.TonConnectUI) resolve(window.TON_CONNECT_UI);
        else fail(new Error('TON_CONNECT_UI missing'));
      };
      s.onerror = () => fail(new Error('TON Connect UI did not load'));
      document.head.append(s);
    });
  }
  return tcLoading;
}

const tonConnectAvailable = () => inTelegram || !!window.TON_CONNECT_UI?.TonConnectUI;

/**
 * sync: the TapSync (its balance is the one on the Tap screen); getMe(): the
 * player from /me; onFatal(kind): the session is over ('expired', 'banned').
 */
export function createWallet(sync, getMe, onFatal = () => {}) {
  const el = {
    none: $('w-none'),
    current: $('w-current'),
    address: $('w-address'),
    copy: $('w-copy'),
    proof: $('w-proof'),
    connect: $('w-connect'),
    manual: $('w-manual'),
    form: $('w-form'),
    input: $('w-input'),
    save: $('w-save'),
    cancel: $('w-cancel'),
    wmsg: $('w-msg'),
    balance: $('c-balance'),
    min: $('c-min'),
    left: $('c-left'),
    globalRow: $('c-global-row'),
    global: $('c-global'),
    cform: $('c-form'),
    amount: $('c-amount'),
    all: $('c-all'),
    note: $('c-note'),
    submit: $('c-submit'),
    cmsg: $('c-msg'),
    hstatus: $('h-status'),
    list: $('h-list'),
  };

  let wallet; // undefined: not known yet; null: none
  let limits = null;
  let claims = null;
  let outstanding = null; // {key, amount} of a claim without a definitive answer
  let outstandingFor = null;
  let editing = false;
  let saving = false;
  let claiming = false;
  let connecting = false;
  let awaitingProof = false;
  let checking = false;
  let visible = false;
  let cooldownUntil = 0;
  let pollTimer = 0;
  let tickTimer = 0;
  let tonUi = null;

  // ---- messages ----

  function say(target, tone, text, code = '', retry = null) {
    target.textContent = text || '';
    target.dataset.tone = text ? tone : '';
    target.dataset.code = text ? code : '';
    if (retry && text) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'btn small';
      b.textContent = t('retry');
      b.addEventListener('click', () => retry());
      target.append(' ', b);
    }
  }

  /** The session is over (401 in Telegram, 403 banned): the app's fatal screen. */
  function fatalIf(e) {
    if (e?.status === 401) onFatal('expired');
    else if (e?.status === 403) onFatal('banned');
  }

  function errorText(e) {
    const code = e?.code || '';
    if (code === 'insufficient_balance') return t('e_insufficient_balance', { n: fmt(sync.balance) });
    if (code === 'below_minimum') return t('e_below_minimum', { n: fmt(limits?.min_amount ?? 0) });
    if (code === 'claim_cooldown') return t('e_claim_cooldown', { t: duration(e.retryAfter || cooldownLeft() || 1) });
    if (PLAIN_ERRORS.has(code)) return t(`e_${code}`);
    const s = e?.status ?? 0;
    if (s === 0) return t('e_offline');
    if (s === 401) return t('e_expired');
    if (s === 429) return t('e_rate');
    if (s >= 500) return t('e_server');
    return t('e_unknown', { code: code || s });
  }

  // ---- the outstanding claim key, kept across reloads ----

  function storeKey() {
    const me = getMe() || {};
    return me.id ? `tapwave.claim.${me.id}` : null;
  }

  function loadOutstanding() {
    const key = storeKey();
    if (!key || outstandingFor === key) return;
    outstandingFor = key;
    try {
      const o = JSON.parse(storageGet(key) || 'null');
      outstanding = o && typeof o.key === 'string' && /^[A-Za-z0-9\-_:.]{1,64}$/.test(o.key) && parseAmount(o.amount) ? { key: o.key, amount: Number(o.amount) } : null;
    } catch {
      outstanding = null;
    }
    if (outstanding) el.amount.value = String(outstanding.amount);
  }

  function saveOutstanding() {
    const key = storeKey();
    if (key) storageSet(key, outstanding ? JSON.stringify(outstanding) : null);
  }

  // ---- wallet card ----

  function renderWallet() {
    const w = wallet;
    el.none.hidden = w !== null;
    el.current.hidden = !w;
    if (w) {
      el.address.textContent = shorten(w.address);
      el.address.title = w.address;
      el.address.dataset.address = w.address;
      el.address.dataset.raw = w.raw || '';
      el.address.setAttribute('aria-label', `${t('w_address')}: ${w.address}`);
      el.current.dataset.proven = String(!!w.proven);
      el.proof.hidden = false;
      el.proof.classList.toggle('ok', !!w.proven);
      el.proof.dataset.proven = String(!!w.proven);
      el.proof.textContent = w.proven
        ? t('w_proven') + (w.wallet_kind ? ` · ${w.wallet_kind}` : '')
        : t('w_not_proven') + (limits?.require_proven_wallet ? ` ${t('w_need_proof')}` : '');
    } else {
      el.proof.hidden = true;
    }
    const tc = tonConnectAvailable();
    el.connect.hidden = !tc || w === undefined;
    el.connect.disabled = connecting;
    el.connect.setAttribute('aria-busy', String(connecting));
    el.connect.textContent = connecting ? t(checking ? 'w_checking' : 'w_connecting') : !w ? t('w_connect') : w.proven ? t('w_connect_other') : t('w_verify');
    const open = w === null ? !tc || editing : w !== undefined && editing;
    el.form.hidden = !open;
    el.manual.hidden = w === undefined || open;
    el.manual.textContent = w ? t('w_change') : t('w_manual');
    el.manual.setAttribute('aria-expanded', String(open));
    el.cancel.hidden = !(open && (w || tc));
    el.save.disabled = saving;
    el.input.readOnly = saving;
  }

  async function loadWallet() {
    try {
      wallet = await api('/wallet');
    } catch (e) {
      if (e.code === 'no_wallet') {
        wallet = null;
      } else {
        fatalIf(e);
        if (wallet === undefined) say(el.wmsg, 'error', errorText(e), e.code, () => refreshAll());
      }
    }
    renderWallet();
    renderClaim();
  }

  async function saveAddress(ev) {
    ev?.preventDefault();
    if (saving) return;
    const address = el.input.value.trim();
    if (!address) {
      say(el.wmsg, 'error', t('w_enter'), 'empty');
      el.input.setAttribute('aria-invalid', 'true');
      el.input.focus();
      return;
    }
    saving = true;
    say(el.wmsg, 'info', '');
    renderWallet();
    try {
      wallet = await api('/wallet', { method: 'PUT', body: { address } });
      editing = false;
      el.input.value = '';
      el.input.removeAttribute('aria-invalid');
      say(el.wmsg, 'ok', t('w_saved'), 'saved');
      hapticNotice('success');
      loadLimits();
    } catch (e) {
      fatalIf(e);
      if (e.code === 'invalid_address') el.input.setAttribute('aria-invalid', 'true');
      say(el.wmsg, 'error', errorText(e), e.code);
      hapticNotice('error');
    } finally {
      saving = false;
      renderWallet();
      renderClaim();
    }
  }

  async function copyAddress() {
    const text = wallet?.address;
    if (!text) return;
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch {
      const ta = document.createElement('textarea');
      ta.value = text;
      ta.setAttribute('readonly', '');
      ta.style.cssText = 'position:fixed;opacity:0;top:0;left:0';
      document.body.append(ta);
      ta.select();
      try {
        ok = document.execCommand('copy');
      } catch {
        ok = false;
      }
      ta.remove();
    }
    say(el.wmsg, ok ? 'ok' : 'error', t(ok ? 'w_copied' : 'w_copy_failed'), ok ? 'copied' : 'copy_failed');
    if (ok) haptic('light');
  }

  // ---- TON Connect ----

  function makeTonUi(lib) {
    const ui = new lib.TonConnectUI({
      manifestUrl: `${location.origin}/tonconnect-manifest.json`,
      restoreConnection: false,
      language: getLang() === 'ru' ? 'ru' : 'en',
    });
    try {
      const dark = document.documentElement.dataset.scheme === 'dark' || (!document.documentElement.dataset.scheme && matchMedia('(prefers-color-scheme: dark)').matches);
      ui.uiOptions = { uiPreferences: { theme: dark ? lib.THEME?.DARK ?? 'DARK' : lib.THEME?.LIGHT ?? 'LIGHT' } };
    } catch {
      /* cosmetic */
    }
    ui.onStatusChange(
      (w) => {
        onTonWallet(w);
      },
      () => {
        if (!awaitingProof) return;
        awaitingProof = false;
        connecting = false;
        say(el.wmsg, 'error', t('w_tc_no_proof'), 'no_proof');
        renderWallet();
      },
    );
    if (typeof ui.onModalStateChange === 'function') {
      ui.onModalStateChange((state) => {
        if (state?.status !== 'closed' || !awaitingProof || state.closeReason === 'wallet-selected') return;
        awaitingProof = false;
        connecting = false;
        say(el.wmsg, 'info', t('w_tc_cancelled'), 'cancelled');
        renderWallet();
      });
    }
    return ui;
  }

  async function connect() {
    if (connecting) return;
    connecting = true;
    say(el.wmsg, 'info', '');
    renderWallet();
    let stage = 'load';
    try {
      const lib = await loadTonConnect();
      if (!tonUi) tonUi = makeTonUi(lib);
      const ui = tonUi;
      // A connection restored from an earlier visit carries no proof: only a fresh one does.
      await Promise.resolve(ui.connectionRestored).catch(() => {});
      if (ui.connected) await Promise.resolve(ui.disconnect()).catch(() => {});
      stage = 'api';
      ui.setConnectRequestParameters?.({ state: 'loading' });
      const { payload } = await api('/wallet/proof/payload', { method: 'POST' });
      ui.setConnectRequestParameters?.({ state: 'ready', value: { tonProof: payload } });
      awaitingProof = true;
      stage = 'modal';
      await ui.openModal();
      // The wallet's answer comes through onStatusChange; until then the button may start over.
      connecting = false;
      renderWallet();
    } catch (e) {
      awaitingProof = false;
      connecting = false;
      tonUi?.setConnectRequestParameters?.(null);
      if (stage === 'api') {
        fatalIf(e);
        say(el.wmsg, 'error', errorText(e), e.code);
      } else {
        console.warn('TON Connect:', e);
        say(el.wmsg, 'error', t('w_tc_unavailable'), 'tonconnect_unavailable');
      }
      hapticNotice('error');
      renderWallet();
    }
  }

  async function onTonWallet(w) {
    if (!w || !awaitingProof) return;
    awaitingProof = false;
    const tp = w.connectItems?.tonProof;
    const account = w.account || {};
    if (!tp || !tp.proof || typeof tp.proof !== 'object') {
      connecting = false;
      say(el.wmsg, 'error', t('w_tc_no_proof'), 'no_proof');
      hapticNotice('error');
      renderWallet();
      Promise.resolve(tonUi?.disconnect()).catch(() => {});
      return;
    }
    connecting = true;
    checking = true;
    say(el.wmsg, 'info', t('w_checking'), 'checking');
    renderWallet();
    try {
      wallet = await api('/wallet/proof', {
        method: 'POST',
        body: {
          address: account.address,
          public_key: account.publicKey,
          proof: { ...tp.proof, state_init: account.walletStateInit },
        },
      });
      editing = false;
      say(el.wmsg, 'ok', t('w_proof_ok'), 'proven');
      hapticNotice('success');
      loadLimits();
    } catch (e) {
      fatalIf(e);
      say(el.wmsg, 'error', errorText(e), e.code);
      hapticNotice('error');
    } finally {
      connecting = false;
      checking = false;
      // The game only needed the proof; no session is kept with the wallet.
      Promise.resolve(tonUi?.disconnect()).catch(() => {});
      renderWallet();
      renderClaim();
    }
  }

  // ---- claim form ----

  function cooldownLeft() {
    return Math.max(0, Math.ceil((cooldownUntil - Date.now()) / 1000));
  }

  /** The most the player may claim right now. */
  function maxClaimable() {
    let max = Math.max(0, sync.balance);
    for (const cap of [num(limits?.player_daily_left), num(limits?.global_daily_left)]) {
      if (cap !== null) max = Math.min(max, cap);
    }
    return Math.max(0, max);
  }

  /** Why the form cannot be sent now: [i18n key, vars], or null. */
  function blocker() {
    if (!limits || wallet === undefined) return ['loading'];
    if (limits.paused) return ['c_paused'];
    if (!wallet) return ['c_need_wallet'];
    if (limits.require_proven_wallet && !wallet.proven) return ['c_need_proof'];
    const cd = cooldownLeft();
    if (cd > 0) return ['c_cooldown', { t: duration(cd) }];
    if (num(limits.player_daily_left) === 0 || num(limits.global_daily_left) === 0) return ['c_cap_done'];
    if (sync.balance < (num(limits.min_amount) ?? 0)) return ['c_need_more', { n: fmt(limits.min_amount) }];
    return null;
  }

  function renderClaim() {
    const balance = sync.balance;
    el.balance.textContent = fmt(balance);
    el.balance.dataset.value = String(balance);
    if (limits) {
      el.min.textContent = fmt(limits.min_amount);
      el.min.dataset.value = String(limits.min_amount);
      const left = num(limits.player_daily_left);
      el.left.textContent = left === null ? t('c_no_cap') : fmt(left);
      el.left.dataset.value = left === null ? '' : String(left);
      const global = num(limits.global_daily_left);
      el.globalRow.hidden = global === null;
      el.global.textContent = global === null ? '' : fmt(global);
    }
    const block = blocker();
    el.note.textContent = block ? t(...block) : '';
    el.note.dataset.reason = block ? block[0] : '';
    const amount = parseAmount(el.amount.value);
    const can = !block && !claiming && amount !== null;
    el.amount.readOnly = claiming;
    el.all.disabled = !!block || claiming || maxClaimable() <= 0;
    const label = claiming ? t('c_claiming') : amount !== null ? t('c_submit_n', { n: fmt(amount) }) : t('c_submit');
    const main = hasMainButton();
    el.submit.hidden = main;
    el.submit.disabled = !can;
    el.submit.textContent = label;
    el.submit.setAttribute('aria-busy', String(claiming));
    if (main && visible) setMainButton({ text: label, active: can, progress: claiming, onClick: submit });
    el.cform.setAttribute('aria-busy', String(claiming));
  }

  async function loadLimits() {
    const mark = sync.mark;
    try {
      const next = await api('/claims/limits');
      limits = next;
      cooldownUntil = Date.now() + Math.max(0, Number(next.cooldown_left_secs) || 0) * 1000;
      if (!claiming) sync.reconcile(next.balance, mark);
      ticking();
    } catch (e) {
      fatalIf(e);
      if (!limits) say(el.cmsg, 'error', errorText(e), e.code, () => refreshAll());
    }
    renderWallet();
    renderClaim();
  }

  function ticking() {
    clearInterval(tickTimer);
    tickTimer = 0;
    if (!visible || cooldownLeft() <= 0) return;
    tickTimer = setInterval(() => {
      if (cooldownLeft() <= 0) {
        clearInterval(tickTimer);
        tickTimer = 0;
        if (el.cmsg.dataset.code === 'claim_cooldown') say(el.cmsg, 'info', '');
      }
      renderClaim();
    }, 1000);
  }

  function fillAll() {
    const max = maxClaimable();
    if (max <= 0) return;
    el.amount.value = String(max);
    haptic('light');
    if (el.cmsg.dataset.tone === 'error') say(el.cmsg, 'info', '');
    renderClaim();
  }

  async function submit(ev) {
    ev?.preventDefault?.();
    if (claiming) return;
    const amount = parseAmount(el.amount.value);
    if (amount === null) {
      say(el.cmsg, 'error', t('e_invalid_amount'), 'invalid_amount');
      el.amount.setAttribute('aria-invalid', 'true');
      hapticNotice('error');
      return;
    }
    if (blocker()) {
      renderClaim();
      return;
    }
    claiming = true;
    el.amount.removeAttribute('aria-invalid');
    say(el.cmsg, 'info', '');
    renderClaim();
    try {
      await sync.idle(3000); // taps still on their way count towards the balance
      // One key per claim until the server answers it for good; a retry reuses it.
      if (!outstanding) outstanding = { key: newKey(), amount };
      outstanding.amount = amount;
      saveOutstanding();
      const mark = sync.mark;
      const claim = await api('/claims', { method: 'POST', body: { amount, idempotency_key: outstanding.key } });
      outstanding = null;
      saveOutstanding();
      if (num(claim?.balance) !== null) {
        sync.reconcile(claim.balance, mark);
        if (limits) limits.balance = claim.balance;
      }
      el.amount.value = '';
      say(el.cmsg, 'ok', t('c_done', { n: fmt(claim?.amount ?? amount) }), 'claimed');
      hapticNotice('success');
      if (claim && claim.id != null) {
        claims = [claim, ...(claims || []).filter((c) => c.id !== claim.id)];
        renderHistory();
      }
      claiming = false;
      loadLimits();
      loadClaims();
    } catch (e) {
      if (uncertain(e)) {
        // Maybe made, maybe not: the same key again settles it without a double claim.
        say(el.cmsg, 'error', e.status === 429 ? errorText(e) : t('c_retry'), e.code);
      } else {
        outstanding = null;
        saveOutstanding();
        fatalIf(e);
        if (e.code === 'claim_cooldown') {
          cooldownUntil = Date.now() + Math.max(1, Number(e.retryAfter) || 1) * 1000;
          ticking();
        }
        if (e.code === 'below_minimum' || e.code === 'insufficient_balance' || e.code === 'invalid_amount') {
          el.amount.setAttribute('aria-invalid', 'true');
        }
        say(el.cmsg, 'error', errorText(e), e.code);
        if (e.code === 'no_wallet' || e.code === 'wallet_not_proven') loadWallet();
        if (e.code === 'idempotency_key_reused') loadClaims();
        if (e.status === 409 || e.status === 422) loadLimits();
      }
      hapticNotice('error');
    } finally {
      claiming = false;
      renderClaim();
    }
  }

  // ---- history ----

  const dateFormat = () => {
    try {
      return new Intl.DateTimeFormat(getLang() === 'ru' ? 'ru-RU' : 'en-US', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
    } catch {
      return { format: (d) => d.toISOString().slice(0, 16).replace('T', ' ') };
    }
  };

  function claimRow(c, df) {
    const li = document.createElement('li');
    li.className = 'claim';
    li.dataset.testid = 'claim-row';
    li.dataset.id = String(c.id);
    li.dataset.status = String(c.status);
    li.dataset.amount = String(c.amount);
    const amount = document.createElement('span');
    amount.className = 'claim-amount';
    amount.textContent = fmt(c.amount);
    const coin = document.createElement('span');
    coin.className = 'coin-mini';
    coin.setAttribute('aria-hidden', 'true');
    amount.prepend(coin, ' ');
    const sr = document.createElement('span');
    sr.className = 'sr-only';
    sr.textContent = ` ${t('coins')}`;
    amount.append(sr);
    const chip = document.createElement('span');
    const group = ON_ITS_WAY.has(c.status) ? 'way' : c.status === 'sent' ? 'sent' : c.status === 'refunded' ? 'refunded' : 'way';
    chip.className = `chip ${group}`;
    chip.dataset.testid = 'claim-status';
    chip.textContent = t(`s_${group}`);
    const when = document.createElement('span');
    when.className = 'claim-when';
    const at = Number(c.created_at);
    when.textContent = Number.isFinite(at) && at > 0 ? df.format(new Date(at)) : '';
    if (c.address) {
      when.append(` · ${t('h_to', { a: shorten(c.address, 4, 4) })}`);
      when.title = c.address;
    }
    li.append(amount, chip, when);
    if (c.status === 'sent' && c.tx_hash) {
      const tx = document.createElement('span');
      tx.className = 'claim-detail mono';
      tx.dataset.testid = 'claim-tx';
      tx.dataset.tx = c.tx_hash;
      tx.title = c.tx_hash;
      tx.textContent = t('h_tx', { h: shorten(c.tx_hash) });
      li.append(tx);
    }
    if (c.status === 'refunded') {
      const why = document.createElement('span');
      why.className = 'claim-detail';
      why.dataset.testid = 'claim-reason';
      why.textContent = [c.error ? t('h_reason', { r: c.error }) : '', t('h_refund_note')].filter(Boolean).join(' ');
      li.append(why);
    }
    return li;
  }

  function renderHistory() {
    if (claims === null) return;
    const df = dateFormat();
    const frag = document.createDocumentFragment();
    for (const c of claims) frag.append(claimRow(c, df));
    el.list.textContent = '';
    el.list.append(frag);
    el.hstatus.textContent = claims.length ? '' : t('h_empty');
    el.hstatus.hidden = !!claims.length;
  }

  async function loadClaims() {
    if (claims === null) {
      el.hstatus.hidden = false;
      el.hstatus.textContent = t('loading');
    }
    try {
      const list = await api('/claims');
      const before = new Map((claims || []).map((c) => [c.id, c.status]));
      claims = Array.isArray(list) ? list : [];
      renderHistory();
      // A claim refunded since the last look put coins back on the balance.
      if (claims.some((c) => c.status === 'refunded' && before.has(c.id) && before.get(c.id) !== 'refunded')) loadLimits();
    } catch (e) {
      fatalIf(e);
      if (claims === null) {
        el.hstatus.hidden = false;
        say(el.hstatus, 'error', t('h_error'), e.code, () => loadClaims());
      }
    }
    poll();
  }

  /** While a claim is on its way and the screen is open, look again now and then. */
  function poll() {
    clearTimeout(pollTimer);
    pollTimer = 0;
    if (visible && claims?.some((c) => ON_ITS_WAY.has(c.status))) pollTimer = setTimeout(loadClaims, POLL_MS);
  }

  async function refreshAll() {
    loadOutstanding();
    await sync.idle(2500); // so the balance read from the server includes the taps just made
    if (!visible) return;
    await Promise.all([loadWallet(), loadLimits(), loadClaims()]);
  }

  // ---- wiring ----

  el.form.addEventListener('submit', saveAddress);
  el.input.addEventListener('input', () => {
    el.input.removeAttribute('aria-invalid');
  });
  el.manual.addEventListener('click', () => {
    editing = true;
    say(el.wmsg, 'info', '');
    renderWallet();
    el.input.focus();
  });
  el.cancel.addEventListener('click', () => {
    editing = false;
    el.input.value = '';
    el.input.removeAttribute('aria-invalid');
    say(el.wmsg, 'info', '');
    renderWallet();
  });
  el.copy.addEventListener('click', copyAddress);
  el.connect.addEventListener('click', connect);
  el.cform.addEventListener('submit', submit);
  el.all.addEventListener('click', fillAll);
  el.amount.addEventListener('input', () => {
    const clean = el.amount.value.replace(/\D+/g, '').replace(/^0+(?=\d)/, '').slice(0, 15);
    if (clean !== el.amount.value) el.amount.value = clean;
    el.amount.removeAttribute('aria-invalid');
    if (el.cmsg.dataset.tone === 'error') say(el.cmsg, 'info', '');
    renderClaim();
  });

  return {
    show() {
      visible = true;
      // Lines from an earlier visit are stale; an unanswered claim is not.
      loadOutstanding();
      if (!saving && !connecting) say(el.wmsg, 'info', '');
      if (!claiming) {
        if (outstanding) say(el.cmsg, 'info', t('c_unfinished', { n: fmt(outstanding.amount) }), 'unfinished');
        else say(el.cmsg, 'info', '');
      }
      renderWallet();
      renderClaim();
      refreshAll();
    },
    hide() {
      visible = false;
      clearTimeout(pollTimer);
      clearInterval(tickTimer);
      pollTimer = 0;
      tickTimer = 0;
      setMainButton(null);
      if (document.activeElement instanceof HTMLElement && el.cform.contains(document.activeElement)) document.activeElement.blur();
    },
  };
}
