//! The language of the pages: message catalogues in Fluent (`locales/*.ftl`, compiled in),
//! English and German. A request's language is the visitor's choice (the `portcullis_lang`
//! cookie, set from the language menu) or else the best match of its `Accept-Language`; the
//! edge sets it for the request's task, and the templates look their text up with `t(key)`.
//! A key missing in a catalogue falls back to English; the English catalogue has them all
//! (a unit test holds both to the same keys).

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// A language the pages are written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    En,
    De,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::De];

    /// The BCP 47 tag, for `<html lang>` and the cookie.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// The language's own name, for the language menu.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::De => "Deutsch",
        }
    }

    /// A supported language from a tag such as `de`, `de-AT` or `EN-gb`.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.tag() == primary)
    }

    fn bundle(self) -> &'static FluentBundle<FluentResource> {
        match self {
            Lang::En => &CATALOGUES.en,
            Lang::De => &CATALOGUES.de,
        }
    }
}

/// The cookie that keeps a visitor's choice of language.
pub const COOKIE: &str = "portcullis_lang";

struct Catalogues {
    en: FluentBundle<FluentResource>,
    de: FluentBundle<FluentResource>,
}

const EN: &str = include_str!("locales/en.ftl");
const DE: &str = include_str!("locales/de.ftl");

fn bundle(lang: &str, source: &str) -> FluentBundle<FluentResource> {
    let id: unic_langid::LanguageIdentifier = lang.parse().expect("a valid language tag");
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // Plain text: no bidi isolation marks around the values put into messages.
    b.set_use_isolating(false);
    let resource = FluentResource::try_new(source.to_owned()).unwrap_or_else(|(_, e)| panic!("{lang}.ftl: {e:?}"));
    b.add_resource(resource).unwrap_or_else(|e| panic!("{lang}.ftl: {e:?}"));
    b
}

/// Built once from the catalogues compiled into the binary; never changed.
static CATALOGUES: LazyLock<Catalogues> = LazyLock::new(|| Catalogues { en: bundle("en", EN), de: bundle("de", DE) });

tokio::task_local! {
    static CURRENT: Lang;
}

/// The language of the request being answered (English outside one).
pub fn current() -> Lang {
    CURRENT.try_with(|l| *l).unwrap_or_default()
}

/// Runs `f` (a request's handling) in `lang`.
pub async fn scope<F: Future>(lang: Lang, f: F) -> F::Output {
    CURRENT.scope(lang, f).await
}

/// Runs `f` (rendering a message outside any request) in `lang`.
pub fn sync_scope<R>(lang: Lang, f: impl FnOnce() -> R) -> R {
    CURRENT.sync_scope(lang, f)
}

/// The visitor's language: the cookie's choice, else the `Accept-Language` entry with the
/// highest weight that we have, else English.
pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
    if let Some(l) = cookie.and_then(Lang::parse) {
        return l;
    }
    let mut best: Option<(f32, Lang)> = None;
    for entry in accept_language.unwrap_or_default().split(',').take(32) {
        let mut parts = entry.split(';');
        let Some(lang) = parts.next().and_then(Lang::parse) else { continue };
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .filter(|q| (0.0..=1.0).contains(q))
            .unwrap_or(1.0);
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l).unwrap_or_default()
}

/// The arguments that are counts (plural forms choose by them).
const COUNTS: [&str; 5] = ["count", "days", "minutes", "left", "total"];

/// The text of `key` in `lang` with `args`, falling back to English, then to the key itself.
pub fn text_in(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    for l in [lang, Lang::En] {
        let b = l.bundle();
        if let Some(pattern) = b.get_message(key).and_then(|m| m.value()) {
            let mut fargs = FluentArgs::new();
            for (k, v) in args {
                // Counts as numbers, so that plural selectors choose right; everything else
                // (codes with leading zeros, names, dates) as the text it is.
                match v.parse::<f64>() {
                    Ok(n) if COUNTS.contains(k) => fargs.set(*k, FluentValue::from(n)),
                    _ => fargs.set(*k, FluentValue::from(*v)),
                }
            }
            let mut errors = Vec::new();
            return b.format_pattern(pattern, Some(&fargs), &mut errors).into_owned();
        }
    }
    key.to_owned()
}

/// Whether `lang`'s own catalogue has `key`.
pub fn has(lang: Lang, key: &str) -> bool {
    lang.bundle().has_message(key)
}

/// The text of `key` in the request's language.
pub fn t(key: &str) -> String {
    text_in(current(), key, &[])
}

/// The text of `key` with one value.
pub fn t1(key: &str, name: &str, value: impl std::fmt::Display) -> String {
    text_in(current(), key, &[(name, &value.to_string())])
}

/// The text of `key` with two values.
pub fn t2(key: &str, a: &str, av: impl std::fmt::Display, b: &str, bv: impl std::fmt::Display) -> String {
    text_in(current(), key, &[(a, &av.to_string()), (b, &bv.to_string())])
}

/// The language menu: (tag, own name, chosen) of each language.
pub fn menu() -> Vec<(&'static str, &'static str, bool)> {
    let now = current();
    Lang::ALL.into_iter().map(|l| (l.tag(), l.name(), l == now)).collect()
}

/// A wait in words, in the request's language: "less than a minute", "3 minutes", "about 2 hours".
pub fn duration(seconds: i64) -> String {
    match seconds {
        ..60 => t("duration-under-minute"),
        60..5400 => t1("duration-minutes", "count", (seconds + 59) / 60),
        _ => t1("duration-hours", "count", (seconds + 1800) / 3600),
    }
}

/// The request's language tag, for `<html lang>`.
pub fn tag() -> &'static str {
    current().tag()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(source: &str) -> Vec<String> {
        let mut k: Vec<String> = source
            .lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_owned()))
            .collect();
        k.sort();
        k
    }

    #[test]
    fn both_catalogues_have_the_same_keys_and_parse() {
        let (en, de) = (keys(EN), keys(DE));
        let missing: Vec<_> = en.iter().filter(|k| !de.contains(k)).collect();
        let extra: Vec<_> = de.iter().filter(|k| !en.contains(k)).collect();
        assert!(missing.is_empty() && extra.is_empty(), "not in de.ftl: {missing:?}; only in de.ftl: {extra:?}");
        for k in &en {
            assert!(has(Lang::En, k) && has(Lang::De, k), "{k} does not parse");
        }
    }

    /// Every key named in the code and the templates (`t("…")`, `t1("…"`, `t2("…"`,
    /// `Msg::key("…")`) is in the catalogues: a typo would show the key to people.
    #[test]
    fn every_key_used_is_in_the_catalogue() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs" || x == "html" || x == "txt") {
                    out.push(p);
                }
            }
        }
        let mut files = Vec::new();
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        let en = keys(EN);
        let mut used = 0;
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for call in ["t(\"", "t1(\"", "t2(\"", "Msg::key(\""] {
                for (at, _) in text.match_indices(call) {
                    // Only calls of ours: `i18n::t(`, a bare `t(` in this module, `Msg::key(`.
                    let before = &text[..at];
                    if !(call.starts_with("Msg") || before.ends_with("i18n::") || before.ends_with(' ')) {
                        continue;
                    }
                    let rest = &text[at + call.len()..];
                    let key = &rest[..rest.find('"').unwrap()];
                    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                        continue;
                    }
                    used += 1;
                    assert!(en.iter().any(|k| k == key), "{}: `{key}` is not in en.ftl", f.display());
                }
            }
        }
        assert!(used > 300, "the scan found only {used} uses");
    }

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(None, None), Lang::En);
        assert_eq!(negotiate(None, Some("de-DE,de;q=0.9,en;q=0.8")), Lang::De);
        assert_eq!(negotiate(None, Some("fr-FR, en;q=0.5, de;q=0.7")), Lang::De);
        assert_eq!(negotiate(None, Some("fr, es")), Lang::En);
        assert_eq!(negotiate(None, Some("de;q=0, en;q=0.1")), Lang::En);
        assert_eq!(negotiate(Some("en"), Some("de")), Lang::En, "the visitor's choice wins");
        assert_eq!(negotiate(Some("xx"), Some("de")), Lang::De);
        assert_eq!(negotiate(None, Some("de;q=nonsense")), Lang::De);
    }

    #[test]
    fn values_and_fallbacks() {
        assert_eq!(text_in(Lang::De, "no-such-key", &[]), "no-such-key");
        let en = text_in(Lang::En, "mfa-attempts-left", &[("count", "3")]);
        let de = text_in(Lang::De, "mfa-attempts-left", &[("count", "3")]);
        assert!(en.contains('3') && de.contains('3') && en != de, "{en} / {de}");
        let one = text_in(Lang::En, "mfa-attempts-left", &[("count", "1")]);
        assert_ne!(one, en.replace('3', "1"), "plural forms: {one}");
        let sms = text_in(Lang::En, "sms-code", &[("code", "012345"), ("host", "id.example"), ("minutes", "5")]);
        assert!(sms.starts_with("012345 is your id.example"), "codes stay text: {sms}");
    }
}
