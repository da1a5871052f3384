// Everything that touches Telegram.WebApp lives here, guarded: the script may
// have failed to load (offline, blocked), or the page may be open in a plain
// browser, where WebApp exists but initData is empty and version is 6.0.

const root = document.documentElement;

export const wa = (() => {
  try {
    return window.Telegram?.WebApp ?? null;
  } catch {
    return null;
  }
})();

/** Raw init data when opened inside Telegram, else ''. */
export const initData = (() => {
  try {
    return typeof wa?.initData === 'string' ? wa.initData : '';
  } catch {
    return '';
  }
})();

/** True inside Telegram (signed init data), false in a plain browser. */
export const inTelegram = initData !== '';

function call(fn) {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** True when the Telegram client supports Bot API `v` (never outside Telegram). */
export function supports(v) {
  if (!wa) return false;
  return call(() => (typeof wa.isVersionAtLeast === 'function' ? wa.isVersionAtLeast(v) : false)) === true;
}

/** The user's language code from the signed-in Telegram user, if any. */
export const tgLanguage = call(() => wa?.initDataUnsafe?.user?.language_code) || '';

const THEME = {
  bg_color: '--tg-bg',
  text_color: '--tg-text',
  hint_color: '--tg-hint',
  link_color: '--tg-link',
  button_color: '--tg-button',
  button_text_color: '--tg-button-text',
  secondary_bg_color: '--tg-secondary-bg',
  header_bg_color: '--tg-header-bg',
  bottom_bar_bg_color: '--tg-bottom-bar-bg',
  accent_text_color: '--tg-accent',
  section_bg_color: '--tg-section-bg',
  section_header_text_color: '--tg-section-header',
  section_separator_color: '--tg-separator',
  subtitle_text_color: '--tg-subtitle',
  destructive_text_color: '--tg-destructive',
};
const COLOR = /^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;

/** Copies themeParams into --tg-* variables; unset ones fall back to app.css defaults. */
function applyTheme() {
  const p = (inTelegram && call(() => wa.themeParams)) || {};
  for (const [key, prop] of Object.entries(THEME)) {
    const v = p[key];
    if (typeof v === 'string' && COLOR.test(v)) root.style.setProperty(prop, v);
    else root.style.removeProperty(prop);
  }
  const scheme = inTelegram ? call(() => wa.colorScheme) : '';
  if (scheme === 'dark' || scheme === 'light') root.dataset.scheme = scheme;
  else delete root.dataset.scheme;
  const meta = document.querySelector('meta[name="theme-color"]');
  if (meta) meta.content = getComputedStyle(root).getPropertyValue('--tg-bg').trim() || meta.content;
}

function px(n) {
  return Number.isFinite(n) && n > 0 ? `${Math.round(n)}px` : '0px';
}

function applyViewport() {
  const h = call(() => wa.viewportStableHeight);
  if (Number.isFinite(h) && h > 100) root.style.setProperty('--app-h', `${Math.round(h)}px`);
}

function applySafeArea() {
  const s = call(() => wa.safeAreaInset) || {};
  const c = call(() => wa.contentSafeAreaInset) || {};
  root.style.setProperty('--safe-top', px((s.top || 0) + (c.top || 0)));
  root.style.setProperty('--safe-bottom', px((s.bottom || 0) + (c.bottom || 0)));
  root.style.setProperty('--safe-left', px((s.left || 0) + (c.left || 0)));
  root.style.setProperty('--safe-right', px((s.right || 0) + (c.right || 0)));
}

function on(event, fn) {
  call(() => wa.onEvent(event, fn));
}

/** Tells Telegram we are ready, expands, and wires theme, viewport and safe areas. */
export function initTelegram() {
  applyTheme();
  if (!wa || !inTelegram) return;
  call(() => wa.ready());
  call(() => wa.expand());
  if (supports('7.7')) call(() => wa.disableVerticalSwipes());
  if (supports('6.1')) {
    call(() => wa.setHeaderColor('bg_color'));
    call(() => wa.setBackgroundColor('bg_color'));
  }
  if (supports('7.10')) call(() => wa.setBottomBarColor('secondary_bg_color'));
  on('themeChanged', applyTheme);
  applyViewport();
  on('viewportChanged', (e) => {
    if (!e || e.isStateStable !== false) applyViewport();
  });
  if (supports('8.0')) {
    applySafeArea();
    on('safeAreaChanged', applySafeArea);
    on('contentSafeAreaChanged', applySafeArea);
  }
}

const hapticOk = inTelegram && supports('6.1') && !!call(() => wa.HapticFeedback);

export function haptic(style = 'light') {
  if (hapticOk) call(() => wa.HapticFeedback.impactOccurred(style));
}

export function hapticNotice(type = 'warning') {
  if (hapticOk) call(() => wa.HapticFeedback.notificationOccurred(type));
}

const backOk = inTelegram && supports('6.1') && !!call(() => wa.BackButton);
let backHandler = null;

/** Shows Telegram's BackButton calling `handler`, or hides it with null. */
export function setBackButton(handler) {
  if (!backOk) return;
  if (backHandler) call(() => wa.BackButton.offClick(backHandler));
  backHandler = handler;
  if (handler) {
    call(() => wa.BackButton.onClick(handler));
    call(() => wa.BackButton.show());
  } else {
    call(() => wa.BackButton.hide());
  }
}

const mainOk = inTelegram && !!call(() => wa.MainButton);
let mainHandler = null;

/** Whether Telegram's MainButton is there to confirm things (inside Telegram only). */
export const hasMainButton = () => mainOk;

/**
 * Shows Telegram's MainButton as {text, active, progress, onClick}, or hides it
 * with null. An inactive button keeps its place but greys out.
 */
export function setMainButton(opts) {
  if (!mainOk) return;
  const mb = wa.MainButton;
  if (mainHandler) call(() => mb.offClick(mainHandler));
  mainHandler = null;
  if (!opts) {
    call(() => mb.hideProgress());
    call(() => mb.hide());
    return;
  }
  const p = call(() => wa.themeParams) || {};
  const active = opts.active !== false;
  const params = { text: String(opts.text || '').slice(0, 64), is_active: active, is_visible: true };
  const color = active ? p.button_color : p.hint_color || p.secondary_bg_color;
  if (typeof color === 'string' && COLOR.test(color)) params.color = color;
  if (typeof p.button_text_color === 'string' && COLOR.test(p.button_text_color)) params.text_color = p.button_text_color;
  call(() => mb.setParams(params));
  if (opts.progress) call(() => mb.showProgress(false));
  else call(() => mb.hideProgress());
  mainHandler = opts.onClick || null;
  if (mainHandler) call(() => mb.onClick(mainHandler));
  call(() => mb.show());
}

/** Opens a t.me link in Telegram (share sheet, chats); false when not possible here. */
export function openTelegramLink(url) {
  if (!inTelegram || !supports('6.1') || typeof wa?.openTelegramLink !== 'function') return false;
  return call(() => {
    wa.openTelegramLink(url);
    return true;
  }) === true;
}

/** Opens a web page: Telegram's in-app browser inside Telegram, a new tab outside. */
export function openLink(url) {
  if (inTelegram && typeof wa?.openLink === 'function' && call(() => {
    wa.openLink(url);
    return true;
  })) return;
  call(() => window.open(url, '_blank', 'noopener'));
}
