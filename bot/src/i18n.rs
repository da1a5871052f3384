//! The bot's words in each language, read from `bot/locales/*.toml` (embedded at build time).
//!
//! A player is answered in the language of their Telegram client (`language_code`) when a file
//! exists for it, in English otherwise; a key missing from a language falls back to English, and
//! a test keeps every file's keys and placeholders equal to English's. Messages are plain text
//! with `{name}` placeholders: the files stay readable by translators, and filling them in is a
//! string replace, with no format syntax that a translation could break.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::{Arc, OnceLock};

/// A language the bot speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English (also for every language without a file).
    En,
    /// Russian.
    Ru,
}

impl Lang {
    /// Every language, English first.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ru];

    /// The language for a Telegram `language_code` (`ru`, `ru-RU`, `en`, …).
    pub fn from_code(code: Option<&str>) -> Lang {
        match code.map(|c| {
            c.split(['-', '_'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase()
        }) {
            Some(c) if c == "ru" => Lang::Ru,
            _ => Lang::En,
        }
    }

    /// Its two-letter code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../locales/en.toml"),
            Lang::Ru => include_str!("../locales/ru.toml"),
        }
    }
}

/// Every message in every language; cheap to clone.
#[derive(Clone, Debug)]
pub struct Texts(Arc<HashMap<Lang, HashMap<String, String>>>);

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => panic!("locale key {key} is not text: {other:?}"),
        }
    }
}

impl Texts {
    /// The embedded message files (parsed once per process).
    pub fn embedded() -> Texts {
        static TEXTS: OnceLock<Texts> = OnceLock::new();
        TEXTS
            .get_or_init(|| {
                let mut all = HashMap::new();
                for lang in Lang::ALL {
                    let table: toml::Table = toml::from_str(lang.source())
                        .unwrap_or_else(|e| panic!("locales/{}.toml: {e}", lang.code()));
                    let mut map = HashMap::new();
                    flatten("", &table, &mut map);
                    all.insert(lang, map);
                }
                Texts(Arc::new(all))
            })
            .clone()
    }

    /// The keys of a language's file.
    pub fn keys(&self, lang: Lang) -> Vec<&str> {
        let mut keys: Vec<&str> = self.0[&lang].keys().map(String::as_str).collect();
        keys.sort_unstable();
        keys
    }

    /// The raw text of `key` in `lang` (English if missing there).
    pub fn raw(&self, lang: Lang, key: &str) -> &str {
        self.0[&lang]
            .get(key)
            .or_else(|| self.0[&Lang::En].get(key))
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no message {key:?} in locales/en.toml"))
    }

    /// `key` in `lang` with no placeholders.
    pub fn get(&self, lang: Lang, key: &str) -> String {
        self.raw(lang, key).to_owned()
    }

    /// `key` in `lang` with its `{name}` placeholders filled in.
    pub fn fill(&self, lang: Lang, key: &str, args: &[(&str, &(dyn Display + Sync))]) -> String {
        let mut text = self.raw(lang, key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), &value.to_string());
        }
        text
    }
}

/// The `{name}` placeholders of a text, sorted.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = text
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_key_with_the_same_placeholders() {
        let texts = Texts::embedded();
        let english = texts.keys(Lang::En);
        for lang in Lang::ALL {
            assert_eq!(texts.keys(lang), english, "keys of {}", lang.code());
            for key in &english {
                assert_eq!(
                    placeholders(texts.raw(lang, key)),
                    placeholders(texts.raw(Lang::En, key)),
                    "placeholders of {key} in {}",
                    lang.code()
                );
            }
        }
    }

    #[test]
    fn language_comes_from_the_client_with_english_otherwise() {
        assert_eq!(Lang::from_code(Some("ru")), Lang::Ru);
        assert_eq!(Lang::from_code(Some("ru-RU")), Lang::Ru);
        assert_eq!(Lang::from_code(Some("RU")), Lang::Ru);
        assert_eq!(Lang::from_code(Some("en")), Lang::En);
        assert_eq!(Lang::from_code(Some("de")), Lang::En);
        assert_eq!(Lang::from_code(None), Lang::En);
    }

    #[test]
    fn placeholders_are_filled() {
        let texts = Texts::embedded();
        let s = texts.fill(Lang::En, "msg.no_such_player", &[("id", &42)]);
        assert_eq!(s, "There is no player 42.");
        assert_eq!(placeholders("{a} and {b}, {a}"), vec!["a", "b"]);
    }
}
