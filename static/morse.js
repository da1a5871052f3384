// International Morse code for A–Z and 0–9, and the timing that turns presses
// into dots and dashes. No DOM in here (node:test imports it).

/** A press shorter than this (ms) is a dot, a longer one a dash. */
export const DOT_MAX_MS = 250;
/** A pause this long (ms) after a press ends the letter. */
export const LETTER_GAP_MS = 900;

const CODES = 'A.-B-...C-.-.D-..E.F..-.G--.H....I..J.---K-.-L.-..M--N-.O---P.--.Q--.-R.-.S...T-U..-V...-W.--X-..-Y-.--Z--..0-----1.----2..---3...--4....-5.....6-....7--...8---..9----.';

/** Morse code → character, e.g. '.-' → 'A'. */
export const MORSE = Object.fromEntries(
  CODES.match(/[A-Z0-9][.-]+/g).map((m) => [m.slice(1), m[0]]),
);

/** The character a dot-dash string stands for, or '' when none. */
export const decode = (code) => MORSE[code] || '';

/** The dot-dash string of a character, or '' when none. */
export function encode(ch) {
  const c = String(ch).toUpperCase();
  return Object.keys(MORSE).find((k) => MORSE[k] === c) || '';
}

/** '.' or '-' for a press that lasted `ms`. */
export const symbol = (ms) => (ms < DOT_MAX_MS ? '.' : '-');
