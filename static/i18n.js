// English and Russian strings, and number formatting. Keys missing in a
// language fall back to English. `{name}` placeholders are filled by t().

const STRINGS = {
  en: {
    app_name: 'tapwave',
    balance: 'Balance',
    coins: 'coins',
    level: 'Level {n}',
    energy: 'Energy',
    profit: 'Profit per hour',
    coin: 'Tap the coin to earn coins',
    tab_tap: 'Tap',
    tab_top: 'Top',
    tab_upgrades: 'Upgrades',
    tab_friends: 'Friends',
    tab_tasks: 'Tasks',
    tab_wallet: 'Wallet',
    tabs: 'Sections',
    no_energy: 'Out of energy. It refills by {n} per second, come back soon!',
    low_energy: 'Not enough energy: some taps did not count.',
    too_fast: 'Whoa, too fast! Some taps did not count.',
    offline: 'You are offline. Your taps are saved and will be sent.',
    busy: 'The server is busy. Sending again in {n} s.',
    server_error: 'The server had a hiccup. Your taps are saved, retrying.',
    refused: 'The server refused those taps.',
    oops: 'Something went wrong. If it keeps happening, reopen the game.',
    top_title: 'Leaderboard',
    your_rank: 'Your rank',
    you: 'you',
    player: 'Player',
    top_empty: 'No players yet. Be the first!',
    top_error: 'Could not load the leaderboard.',
    retry: 'Try again',
    loading: 'Loading…',
    tg_title: 'Open tapwave in Telegram',
    tg_text: 'This game runs inside Telegram. Open it with the Play button in the bot chat.',
    net_title: 'Cannot reach the game',
    net_text: 'Check your connection and try again.',
    expired_title: 'Session expired',
    expired_text: 'Close the game and open it again from the bot.',
    banned_title: 'Account blocked',
    banned_text: 'This account can no longer play.',
  },
  ru: {
    balance: 'Баланс',
    coins: 'монет',
    level: 'Уровень {n}',
    energy: 'Энергия',
    profit: 'Прибыль в час',
    coin: 'Нажимайте на монету, чтобы зарабатывать',
    tab_tap: 'Тап',
    tab_top: 'Топ',
    tab_upgrades: 'Улучшения',
    tab_friends: 'Друзья',
    tab_tasks: 'Задания',
    tab_wallet: 'Кошелёк',
    tabs: 'Разделы',
    no_energy: 'Энергия закончилась. Она восстанавливается на {n} в секунду, загляните чуть позже!',
    low_energy: 'Не хватило энергии: часть тапов не засчитана.',
    too_fast: 'Ого, слишком быстро! Часть тапов не засчитана.',
    offline: 'Нет соединения. Тапы сохранены и будут отправлены.',
    busy: 'Сервер занят. Отправим снова через {n} с.',
    server_error: 'Сервер споткнулся. Тапы сохранены, пробуем снова.',
    refused: 'Сервер отклонил эти тапы.',
    oops: 'Что-то пошло не так. Если повторится, перезапустите игру.',
    top_title: 'Рейтинг',
    your_rank: 'Ваше место',
    you: 'вы',
    player: 'Игрок',
    top_empty: 'Игроков пока нет. Станьте первым!',
    top_error: 'Не удалось загрузить рейтинг.',
    retry: 'Повторить',
    loading: 'Загрузка…',
    tg_title: 'Откройте tapwave в Telegram',
    tg_text: 'Эта игра работает внутри Telegram. Откройте её кнопкой «Играть» в чате с ботом.',
    net_title: 'Нет связи с игрой',
    net_text: 'Проверьте подключение и попробуйте снова.',
    expired_title: 'Сессия истекла',
    expired_text: 'Закройте игру и откройте её снова из бота.',
    banned_title: 'Аккаунт заблокирован',
    banned_text: 'Этот аккаунт больше не может играть.',
  },
};

let lang = 'en';
let numberFormat = makeFormat('en');

function makeFormat(l) {
  try {
    return new Intl.NumberFormat(l === 'ru' ? 'ru-RU' : 'en-US', { maximumFractionDigits: 0 });
  } catch {
    return { format: (n) => String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',') };
  }
}

/** Picks the language from a code like "ru", "ru-RU" or "en-GB"; anything else is English. */
export function setLang(code) {
  const next = typeof code === 'string' && /^ru\b/i.test(code) ? 'ru' : 'en';
  if (next === lang) return false;
  lang = next;
  numberFormat = makeFormat(lang);
  document.documentElement.lang = lang;
  return true;
}

export const getLang = () => lang;

export function t(key, vars) {
  let s = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? vars[k] : m));
  return s;
}

/** An integer with thousands separators in the current language. */
export const fmt = (n) => numberFormat.format(Math.floor(Number(n) || 0));

/** Fills every [data-i18n] element's text, and [data-i18n-label] aria-labels. */
export function translate(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
}
