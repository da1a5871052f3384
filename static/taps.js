// Tap batching: optimistic counters, one request in flight, retries with the
// same seq, reconciliation with every server answer. No DOM in here.
//
// Taps move through two places: `pending` (counted on screen, not yet in a
// batch) and `outbox` ({count, seq}: the batch being sent, fixed once made, so
// a retry after a lost answer repeats exactly what the server may already have
// applied, and the server's seq dedup makes that safe). A batch also carries
// `gaps`: the whole milliseconds between its consecutive taps (performance.now()),
// for the server's anti-cheat; a retry sends them unchanged. Both are saved to
// storage whenever taps leave `pending`, and on hide, so a page killed in the
// background sends them on the next start.

export const MAX_BATCH = 1000;
const SYNC_NOTICES = new Set(['offline', 'busy', 'server_error']);

const MAX_GAP_MS = 60000;
const int = (v, d = 0) => (Number.isFinite(Number(v)) ? Math.floor(Number(v)) : d);
const okGap = (g) => Number.isInteger(g) && g >= 0 && g <= MAX_GAP_MS;
const hiRes = () => (typeof performance === 'object' ? performance.now() : Date.now());

export class TapSync {
  /**
   * send(batch, {keepalive}) -> Promise<{accepted, balance, energy, seq, duplicate}>, throws
   * ApiError-like {status, code, retryAfter}. store: {get(key), set(key, value|null)}.
   * onChange(), onNotice(key|null, vars), onFatal(kind).
   */
  constructor({ send, store, now = () => Date.now(), clock = hiRes, onChange = () => {}, onNotice = () => {}, onFatal = () => {} }) {
    Object.assign(this, { send, store, now, clock, onChange, onNotice, onFatal });
    this.key = null;
    this.serverBalance = 0;
    this.energy = 0;
    this.energyAt = now();
    this.maxEnergy = 1000;
    this.energyPerSec = 0;
    this.tapPower = 1;
    this.pending = 0;
    // Gaps between the last gaps.length + 1 pending taps (older ones unknown).
    this.gaps = [];
    this.tapAt = null;
    this.outbox = null;
    this.inflight = false;
    this.waitUntil = 0;
    this.waitFor429 = false;
    this.failures = 0;
    this.lastSeq = 0;
    this.stopped = false;
    this.waiters = [];
    this.notice = null;
  }

  /** Takes the player from GET /me, and any batch a previous page left unsent. */
  load(me, key) {
    this.key = key;
    this.tapPower = Math.max(1, int(me.tap_power, 1));
    this.maxEnergy = Math.max(0, int(me.max_energy, 1000));
    this.energyPerSec = Math.max(0, Number(me.energy_per_sec) || 0);
    this.serverBalance = int(me.balance);
    this.energy = int(me.energy);
    this.energyAt = this.now();
    this.lastSeq = Math.max(this.lastSeq, int(me.last_seq));
    let saved = null;
    try {
      saved = JSON.parse(this.store.get(key) || 'null');
    } catch {
      saved = null;
    }
    if (saved && typeof saved === 'object') {
      const o = saved.outbox;
      // A saved batch with a seq the server has not applied yet is resent as is;
      // one at or below last_seq was applied (or superseded), and is dropped.
      if (o && int(o.count) >= 1 && int(o.count) <= MAX_BATCH && int(o.seq) > this.lastSeq) {
        this.outbox = { count: int(o.count), seq: int(o.seq) };
        if (Array.isArray(o.gaps) && o.gaps.length && o.gaps.length <= o.count && o.gaps.every(okGap)) this.outbox.gaps = o.gaps;
        this.lastSeq = this.outbox.seq;
      }
      this.pending += Math.min(Math.max(0, int(saved.pending)), 100 * MAX_BATCH);
      this.energy -= this.unsent * this.tapPower;
    }
    this.save();
    this.onChange();
  }

  /** Takes fresh server state from GET /me, when no taps are on their way. */
  resync(me) {
    if (this.unsent > 0 || this.inflight || this.stopped) return false;
    this.tapPower = Math.max(1, int(me.tap_power, this.tapPower));
    this.maxEnergy = Math.max(0, int(me.max_energy, this.maxEnergy));
    this.energyPerSec = Math.max(0, Number(me.energy_per_sec) || 0);
    this.serverBalance = int(me.balance, this.serverBalance);
    this.energy = int(me.energy, this.energy);
    this.energyAt = this.now();
    this.lastSeq = Math.max(this.lastSeq, int(me.last_seq));
    this.onChange();
    return true;
  }

  /**
   * A token to take before asking the server for something that answers the
   * balance (a claim, the claim limits): null while taps are on their way,
   * since their answer may or may not be in it.
   */
  get mark() {
    return this.unsent === 0 && !this.inflight && !this.stopped ? this.lastSeq : null;
  }

  /**
   * Takes a balance the server answered outside the tap flow, asked for at
   * `mark`; ignored if a tap batch was made since (that batch's answer brings
   * the balance anyway). Taps tapped since, still `pending`, are in no server
   * balance, so they stay on top of it.
   */
  reconcile(balance, mark) {
    if (mark == null || mark !== this.lastSeq || this.stopped || this.inflight || this.outbox) return false;
    if (!Number.isFinite(Number(balance))) return false;
    this.serverBalance = int(balance);
    this.onChange();
    return true;
  }

  /**
   * A boost's answer (the player state): the tap power, energy cap and energy
   * it brings always count; the balance as reconcile() takes it.
   */
  boosted(state, mark) {
    if (this.stopped) return;
    this.regen();
    if (int(state.tap_power) >= 1) this.tapPower = int(state.tap_power);
    if (Number.isFinite(Number(state.max_energy))) this.maxEnergy = Math.max(0, int(state.max_energy));
    if (Number.isFinite(Number(state.energy))) {
      this.energy = Number(state.energy) - this.pending * this.tapPower;
      this.energyAt = this.now();
    }
    if (!this.reconcile(state.balance, mark)) this.onChange();
  }

  /** Taps counted on screen but not yet answered by the server. */
  get unsent() {
    return this.pending + (this.outbox ? this.outbox.count : 0);
  }

  get balance() {
    return this.serverBalance + this.unsent * this.tapPower;
  }

  get canTap() {
    return !this.stopped && this.energy >= this.tapPower;
  }

  /** Counts one tap if there is energy for it; returns whether it counted. */
  tap() {
    this.regen();
    if (!this.canTap) return false;
    this.energy -= this.tapPower;
    const at = this.clock();
    if (this.pending > 0 && this.tapAt != null) {
      this.gaps.push(Math.min(MAX_GAP_MS, Math.max(0, Math.round(at - this.tapAt))));
      if (this.gaps.length > MAX_BATCH) this.gaps.shift();
    }
    this.tapAt = at;
    this.pending += 1;
    return true;
  }

  regen() {
    const t = this.now();
    const dt = Math.max(0, t - this.energyAt) / 1000;
    this.energyAt = t;
    if (this.energy < this.maxEnergy) this.energy = Math.min(this.maxEnergy, this.energy + dt * this.energyPerSec);
  }

  /** Called about once a second: regenerates energy and sends a batch when due. */
  tick() {
    this.regen();
    this.flush();
    this.onChange();
  }

  save() {
    if (!this.key) return;
    const empty = !this.outbox && this.pending === 0;
    this.store.set(this.key, empty ? null : JSON.stringify({ outbox: this.outbox, pending: this.pending }));
  }

  /** The page is going away or hidden: send now (unless told to wait by a 429), and save. */
  flushNow() {
    if (!this.waitFor429 || this.now() >= this.waitUntil) this.waitUntil = 0;
    this.flush();
    this.save();
  }

  flush() {
    if (this.stopped || this.inflight || !this.key) return;
    if (this.now() < this.waitUntil) return;
    if (!this.outbox) {
      if (this.pending <= 0) return;
      const count = Math.min(this.pending, MAX_BATCH);
      const seq = Math.max(this.now(), this.lastSeq + 1);
      this.lastSeq = seq;
      // The gaps whose both taps are in this batch; the one across the cut is dropped.
      const k = count - this.pending + this.gaps.length;
      const gaps = this.gaps.slice(0, Math.max(0, k));
      this.gaps = this.gaps.slice(Math.max(0, k + 1));
      this.outbox = gaps.length ? { count, seq, gaps } : { count, seq };
      this.pending -= count;
      this.save();
    }
    const batch = this.outbox;
    this.inflight = true;
    // keepalive on every batch: one still in flight when the page closes arrives anyway.
    Promise.resolve()
      .then(() => this.send(batch, { keepalive: true }))
      .then(
        (res) => this.answered(batch, res),
        (err) => this.failed(batch, err),
      )
      .finally(() => {
        this.inflight = false;
        this.settle();
        this.onChange();
      });
  }

  answered(batch, res) {
    if (this.outbox !== batch) return;
    this.outbox = null;
    this.failures = 0;
    this.waitUntil = 0;
    this.waitFor429 = false;
    this.lastSeq = Math.max(this.lastSeq, int(res.seq, batch.seq));
    this.serverBalance = int(res.balance, this.serverBalance);
    if (Number.isFinite(Number(res.energy))) {
      this.energy = Number(res.energy) - this.pending * this.tapPower;
      this.energyAt = this.now();
    }
    this.save();
    if (this.notice && SYNC_NOTICES.has(this.notice)) this.say(null);
    const refused = batch.count - Math.max(0, int(res.accepted, batch.count));
    if (!res.duplicate && refused > 0) {
      this.say(Number(res.energy) < this.tapPower ? 'low_energy' : 'too_fast');
    }
  }

  failed(batch, err) {
    if (this.outbox !== batch) return;
    const status = err?.status ?? 0;
    if (status === 401 || status === 403) {
      this.stopped = true;
      this.save();
      this.onFatal(status === 403 ? 'banned' : 'expired');
      return;
    }
    if (status === 429) {
      const wait = Math.max(1, Number(err.retryAfter) || 1);
      this.waitUntil = this.now() + wait * 1000;
      this.waitFor429 = true;
      this.say('busy', { n: Math.ceil(wait) });
      return;
    }
    if (status === 0 || status === 408 || status >= 500) {
      this.failures += 1;
      const base = Math.min(15000, 1000 * 2 ** (this.failures - 1));
      this.waitUntil = this.now() + base * (0.75 + Math.random() * 0.5);
      this.waitFor429 = false;
      this.say(status === 0 ? 'offline' : 'server_error');
      return;
    }
    // 400/404/409/422…: this batch can never be accepted; drop it rather than loop.
    this.outbox = null;
    this.failures = 0;
    this.save();
    this.say('refused');
  }

  /** Stop waiting for backoff (e.g. the browser is back online). */
  retrySoon() {
    if (!this.waitFor429) this.waitUntil = 0;
    this.flush();
  }

  say(key, vars) {
    this.notice = key;
    this.onNotice(key, vars);
  }

  /** Resolves when every tap has been answered, or after `ms`. */
  idle(ms = 3000) {
    this.flush();
    if (this.unsent === 0 || this.stopped) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w = { resolve, timer: setTimeout(() => this.release(w, false), ms) };
      this.waiters.push(w);
    });
  }

  release(w, ok) {
    clearTimeout(w.timer);
    this.waiters = this.waiters.filter((x) => x !== w);
    w.resolve(ok);
  }

  settle() {
    if (this.unsent > 0 && !this.stopped) {
      // more taps came in while we waited: send them right away for waiters
      if (this.waiters.length) this.flush();
      return;
    }
    for (const w of [...this.waiters]) this.release(w, true);
  }
}
