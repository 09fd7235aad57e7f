//! Marketplace search over a code's title and its tipster's username, written once for the
//! server (`GET /codes?q=`) and the apps (a kept page filtered offline), so both agree on what
//! matches.
//!
//! A query is split into words (letters and digits; everything else separates, so `@ace` is
//! `ace`); words of one character are ignored. A code matches when every query word starts some
//! word of its title or username, ignoring case: `"ars"` finds "Arsenal to win", `"ace ten"`
//! finds @ace's "Tennis double".

/// The longest `q` accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 100;
/// What a `q` longer than [`MAX_QUERY_CHARS`] is told, beside the field.
pub const TOO_LONG: &str = "must be at most 100 characters";

/// Whether `q` is longer than [`MAX_QUERY_CHARS`] characters (a request with it is refused, 422).
pub fn is_too_long(q: &str) -> bool {
    q.chars().count() > MAX_QUERY_CHARS
}

/// Query words kept (the rest are ignored): a bound on the work of one search.
pub const MAX_QUERY_WORDS: usize = 8;
const MIN_WORD_CHARS: usize = 2;

/// The words of `text`, lower-cased.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// The words of query `q` that take part in a search: at least two characters, each once, at
/// most [`MAX_QUERY_WORDS`]. Empty when nothing in `q` is searchable (then everything matches).
pub fn query_words(q: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in words(q) {
        if w.chars().count() >= MIN_WORD_CHARS && !out.contains(&w) {
            out.push(w);
        }
        if out.len() == MAX_QUERY_WORDS {
            break;
        }
    }
    out
}

/// Whether every word of `query` (from [`query_words`]) starts a word of `title` or `username`.
pub fn matches_words(query: &[String], title: &str, username: &str) -> bool {
    if query.is_empty() {
        return true;
    }
    let haystack: Vec<String> = words(title).chain(words(username)).collect();
    query
        .iter()
        .all(|q| haystack.iter().any(|w| w.starts_with(q.as_str())))
}

/// [`matches_words`] for a raw query string.
pub fn matches(q: &str, title: &str, username: &str) -> bool {
    matches_words(&query_words(q), title, username)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_must_start_a_word_of_the_title_or_the_tipster() {
        assert!(matches("ars", "Arsenal to win", "ace"));
        assert!(matches("@ACE ten", "Tennis double", "ace_tips"));
        assert!(matches("tips", "Tennis double", "ace_tips"));
        assert!(
            !matches("senal", "Arsenal to win", "ace"),
            "a word's start, not its middle"
        );
        assert!(
            !matches("ars chelsea", "Arsenal to win", "ace"),
            "every word"
        );
        assert!(matches("Ünïon", "Union Berlin ünïon", "x"));
    }

    #[test]
    fn short_repeated_and_excess_words_are_dropped() {
        assert_eq!(query_words("a  Ars ars, x-BE"), vec!["ars", "be"]);
        assert!(query_words("@ ! a").is_empty());
        assert!(
            matches("a", "Anything", "anyone"),
            "nothing searchable matches all"
        );
        let many = (0..20)
            .map(|i| format!("w{i:02}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(query_words(&many).len(), MAX_QUERY_WORDS);
    }
}
