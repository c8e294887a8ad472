//! The rules of a site's identity and credentials: which site ids exist, which origins a site may list and
//! whom they let in, how long an embed token may live, and the shapes of the keys the Worker mints.
//!
//! Why here and not in the Worker: they are contract (docs/design.md §6 and §7: a site id is part of every
//! KV key and URL, an origin list decides who may send and read, a key's shape lets the Worker refuse a
//! bearer string without a KV lookup). Stated once, they are tested once; the Worker calls them and maps
//! [`SiteRuleError`] to its JSON error body, with [`SiteRuleError::code`] and [`SiteRuleError::field`].

use serde_json::Value;
use thiserror::Error;

/// Longest site id: it is part of every KV key and URL of the site.
pub const MAX_SITE_ID_LEN: usize = 64;
/// Longest entry of `allowed_origins`.
pub const MAX_ORIGIN_LEN: usize = 200;
/// Shortest life of an embed token (`POST …/embed-tokens {"ttl_seconds": N}`).
pub const MIN_EMBED_TTL_SECONDS: u64 = 60;
/// Longest life of an embed token: 30 days.
pub const MAX_EMBED_TTL_SECONDS: u64 = 30 * 86_400;
/// The life of an embed token when the request names none: an hour.
pub const DEFAULT_EMBED_TTL_SECONDS: u64 = 3600;

/// A request that breaks one of these rules; `Display` is the message a client reads.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SiteRuleError {
    #[error("site ids are 1-64 characters of a-z, 0-9, - and _")]
    InvalidSiteId,
    #[error("allowed_origins must be an array of strings")]
    OriginsNotAList,
    /// The entry at `index` of `allowed_origins` is not an origin.
    #[error("an origin looks like https://example.com")]
    InvalidOrigin { index: usize },
    #[error("ttl_seconds must be an integer from {MIN_EMBED_TTL_SECONDS} to {MAX_EMBED_TTL_SECONDS}")]
    InvalidTtl,
}

impl SiteRuleError {
    /// The error code of the API's error body.
    pub fn code(&self) -> &'static str {
        match self {
            SiteRuleError::InvalidSiteId => "invalid_site",
            SiteRuleError::OriginsNotAList | SiteRuleError::InvalidOrigin { .. } => "invalid_origins",
            SiteRuleError::InvalidTtl => "invalid_ttl",
        }
    }

    /// The request field the error is about (`allowed_origins[2]` for the third origin).
    pub fn field(&self) -> String {
        match self {
            SiteRuleError::InvalidSiteId => "site".to_owned(),
            SiteRuleError::OriginsNotAList => "allowed_origins".to_owned(),
            SiteRuleError::InvalidOrigin { index } => format!("allowed_origins[{index}]"),
            SiteRuleError::InvalidTtl => "ttl_seconds".to_owned(),
        }
    }
}

/// Whether `site` is a site id: 1-64 of `a-z`, `0-9`, `-` and `_`, so it is safe inside KV keys and URLs
/// as it is (no `/` to escape a key's prefix, nothing to percent-encode).
pub fn is_valid_site_id(site: &str) -> bool {
    !site.is_empty()
        && site.len() <= MAX_SITE_ID_LEN
        && site.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// [`is_valid_site_id`] as a result, for the error body.
pub fn check_site_id(site: &str) -> Result<(), SiteRuleError> {
    if is_valid_site_id(site) { Ok(()) } else { Err(SiteRuleError::InvalidSiteId) }
}

/// A site's `allowed_origins` as sent: an array of `https://host[:port]` or `http://host[:port]` (a trailing
/// slash is dropped) or `*`, each at most [`MAX_ORIGIN_LEN`] bytes. Returned as stored.
pub fn parse_allowed_origins(value: &Value) -> Result<Vec<String>, SiteRuleError> {
    let Value::Array(items) = value else { return Err(SiteRuleError::OriginsNotAList) };
    let list: Vec<&str> =
        items.iter().map(Value::as_str).collect::<Option<_>>().ok_or(SiteRuleError::OriginsNotAList)?;
    if let Some(index) = list.iter().position(|o| !is_origin(o)) {
        return Err(SiteRuleError::InvalidOrigin { index });
    }
    Ok(list.into_iter().map(|o| o.trim_end_matches('/').to_owned()).collect())
}

/// Whether an entry of `allowed_origins` is `*` or a scheme and a host, with nothing after the host but
/// trailing slashes.
fn is_origin(entry: &str) -> bool {
    let host = entry.strip_prefix("https://").or_else(|| entry.strip_prefix("http://"));
    entry == "*"
        || host
            .is_some_and(|h| !h.is_empty() && !h.trim_end_matches('/').contains('/') && entry.len() <= MAX_ORIGIN_LEN)
}

/// Whether a browser on `origin` may send events with the site's public write key: an empty list lets every
/// origin send; otherwise the origin must be listed (or the list holds `*`). `Origin: null` (a sandboxed
/// frame, a `file:` page) is a browser origin too, let in only by an empty list or one that names `null`.
pub fn origin_may_send(allowed: &[String], origin: &str) -> bool {
    if origin == "null" {
        return allowed.is_empty() || allowed.iter().any(|a| a == "null");
    }
    allowed.is_empty() || allowed.iter().any(|a| a == "*" || a.trim_end_matches('/').eq_ignore_ascii_case(origin))
}

/// Whether a page on `origin` may read the site's reports across origins (CORS): only an origin the site
/// lists. Unlike sending, an empty list lets no page read: reports are not public.
pub fn origin_may_read(allowed: &[String], origin: &str) -> bool {
    !allowed.is_empty() && origin_may_send(allowed, origin)
}

/// The life of a new embed token: `ttl_seconds` of the request (absent or `null`: the default), an integer
/// from [`MIN_EMBED_TTL_SECONDS`] to [`MAX_EMBED_TTL_SECONDS`], both included.
pub fn embed_token_ttl(requested: Option<&Value>) -> Result<u64, SiteRuleError> {
    match requested {
        None | Some(Value::Null) => Ok(DEFAULT_EMBED_TTL_SECONDS),
        Some(v) => v
            .as_u64()
            .filter(|t| (MIN_EMBED_TTL_SECONDS..=MAX_EMBED_TTL_SECONDS).contains(t))
            .ok_or(SiteRuleError::InvalidTtl),
    }
}

/// The shape of a credential the Worker mints: a prefix that says what it is, then random bytes as hex.
/// Minting and recognising go through the same value, so a key is always recognised as what it was minted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyFormat {
    prefix: &'static str,
    random_bytes: usize,
}

/// The public write key (`wk_…`), in the snippet of every page of the site.
pub const WRITE_KEY: KeyFormat = KeyFormat { prefix: "wk_", random_bytes: 16 };
/// The secret write key (`sk_…`), for servers; stored only as its SHA-256.
pub const SECRET_KEY: KeyFormat = KeyFormat { prefix: "sk_", random_bytes: 16 };
/// The read token (`rt_…`); stored only as its SHA-256.
pub const READ_TOKEN: KeyFormat = KeyFormat { prefix: "rt_", random_bytes: 24 };

impl KeyFormat {
    /// How many random bytes a key of this format holds (the caller draws them: this crate has no randomness).
    pub fn random_bytes(self) -> usize {
        self.random_bytes
    }

    /// The key whose random part is `random_hex`, the hex of [`KeyFormat::random_bytes`] random bytes.
    pub fn with_random_hex(self, random_hex: &str) -> String {
        format!("{}{random_hex}", self.prefix)
    }

    /// Whether `token` has this format: its prefix and exactly twice [`KeyFormat::random_bytes`] hex digits.
    /// Anything else is refused without a lookup, so arbitrary bearer strings never become KV keys.
    pub fn fits(self, token: &str) -> bool {
        token
            .strip_prefix(self.prefix)
            .is_some_and(|h| h.len() == 2 * self.random_bytes && h.bytes().all(|b| b.is_ascii_hexdigit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn site_ids() {
        let longest = "a".repeat(MAX_SITE_ID_LEN);
        for ok in ["a", "acme", "acme-2_eu", "0", &longest] {
            assert_eq!(check_site_id(ok), Ok(()), "{ok}");
        }
        let too_long = "a".repeat(MAX_SITE_ID_LEN + 1);
        for bad in ["", "Acme", "a b", "a/b", "a.b", "é", "a%20b", &too_long] {
            assert_eq!(check_site_id(bad), Err(SiteRuleError::InvalidSiteId), "{bad}");
        }
        let e = SiteRuleError::InvalidSiteId;
        assert_eq!((e.code(), e.field().as_str()), ("invalid_site", "site"));
        assert_eq!(e.to_string(), "site ids are 1-64 characters of a-z, 0-9, - and _");
    }

    #[test]
    fn allowed_origins_are_parsed_and_normalised() {
        let list = json!(["https://a.example", "http://b.example:8080/", "*", "https://c.example//"]);
        assert_eq!(
            parse_allowed_origins(&list),
            Ok(vec![
                "https://a.example".into(),
                "http://b.example:8080".into(),
                "*".into(),
                "https://c.example".into()
            ])
        );
        assert_eq!(parse_allowed_origins(&json!([])), Ok(vec![]));
        for not_a_list in [json!("https://a.example"), json!([1]), json!(["https://a.example", null]), json!({})] {
            assert_eq!(parse_allowed_origins(&not_a_list), Err(SiteRuleError::OriginsNotAList), "{not_a_list}");
        }
        let long = format!("https://{}.example", "x".repeat(MAX_ORIGIN_LEN));
        for (bad, index) in [
            (json!(["ftp://x.example"]), 0),
            (json!(["https://ok.example", "https://"]), 1),
            (json!(["https://a.example/path"]), 0),
            (json!(["a.example"]), 0),
            (json!(["https://ok.example", "https://ok.example", long]), 2),
        ] {
            let e = parse_allowed_origins(&bad);
            assert_eq!(e, Err(SiteRuleError::InvalidOrigin { index }), "{bad}");
            let e = SiteRuleError::InvalidOrigin { index };
            assert_eq!((e.code(), e.field()), ("invalid_origins", format!("allowed_origins[{index}]")));
        }
        assert_eq!(SiteRuleError::OriginsNotAList.field(), "allowed_origins");
    }

    /// (allowed list, origin, may send?, may read?)
    #[test]
    fn who_may_send_and_read() {
        let list = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let cases: [(&[&str], &str, bool, bool); 9] = [
            (&[], "https://a.example", true, false),
            (&[], "null", true, false),
            (&["https://a.example"], "https://a.example", true, true),
            (&["https://a.example/"], "https://A.example", true, true),
            (&["https://a.example"], "https://b.example", false, false),
            (&["https://a.example"], "null", false, false),
            (&["*"], "https://b.example", true, true),
            (&["*"], "null", false, false),
            (&["null"], "null", true, true),
        ];
        for (allowed, origin, send, read) in cases {
            let allowed = list(allowed);
            assert_eq!(origin_may_send(&allowed, origin), send, "send {allowed:?} {origin}");
            assert_eq!(origin_may_read(&allowed, origin), read, "read {allowed:?} {origin}");
        }
    }

    #[test]
    fn embed_token_lifetimes() {
        assert_eq!(embed_token_ttl(None), Ok(3600));
        assert_eq!(embed_token_ttl(Some(&Value::Null)), Ok(3600));
        for ok in [60, 600, 2_592_000] {
            assert_eq!(embed_token_ttl(Some(&json!(ok))), Ok(ok));
        }
        for bad in [json!(59), json!(2_592_001), json!(-60), json!(60.5), json!("600"), json!([600])] {
            assert_eq!(embed_token_ttl(Some(&bad)), Err(SiteRuleError::InvalidTtl), "{bad}");
        }
        let e = SiteRuleError::InvalidTtl;
        assert_eq!((e.code(), e.field().as_str()), ("invalid_ttl", "ttl_seconds"));
        assert_eq!(e.to_string(), "ttl_seconds must be an integer from 60 to 2592000");
    }

    #[test]
    fn key_formats() {
        let hex32 = "0123456789abcdef".repeat(2);
        let key = WRITE_KEY.with_random_hex(&hex32);
        assert_eq!(key, format!("wk_{hex32}"));
        assert!(WRITE_KEY.fits(&key) && WRITE_KEY.fits(&key.to_uppercase().replacen("WK_", "wk_", 1)));
        assert!(!SECRET_KEY.fits(&key) && !READ_TOKEN.fits(&key));
        assert!(SECRET_KEY.fits(&format!("sk_{hex32}")));
        assert_eq!(READ_TOKEN.random_bytes(), 24);
        assert!(READ_TOKEN.fits(&format!("rt_{hex32}{}", &hex32[..16])));
        for bad in ["", "wk_", "wk_0123", "../site/x", &format!("{key}0"), &key.replace('a', "g"), &key[1..]] {
            assert!(!WRITE_KEY.fits(bad), "{bad}");
        }
    }

    fn hex(n: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(any::<u8>(), n).prop_map(|b| b.iter().map(|x| format!("{x:02x}")).collect())
    }

    proptest! {
        /// A site id is valid exactly when it has 1-64 characters, all of the allowed ones.
        #[test]
        fn site_ids_are_exactly_the_safe_strings(s in "[a-z0-9_A-Z./ %-]{0,70}") {
            let safe = !s.is_empty()
                && s.len() <= 64
                && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
            prop_assert_eq!(is_valid_site_id(&s), safe);
        }

        /// Every key minted from random bytes is recognised as its own format and no other; changing one
        /// character of its random part to a non-hex one, or dropping one, makes it unrecognised.
        #[test]
        fn minted_keys_fit_their_format_only(
            bytes in hex(16), long in hex(24), at in 0usize..32, junk in "[g-z_./]"
        ) {
            for (format, random) in [(WRITE_KEY, &bytes), (SECRET_KEY, &bytes), (READ_TOKEN, &long)] {
                let key = format.with_random_hex(random);
                prop_assert!(format.fits(&key));
                let others = [WRITE_KEY, SECRET_KEY, READ_TOKEN].into_iter().filter(|f| *f != format);
                for other in others {
                    prop_assert!(!other.fits(&key), "{} fits {:?}", key, other);
                }
                let mut broken = key.clone();
                broken.replace_range(3 + at..4 + at, &junk);
                prop_assert!(!format.fits(&broken), "{}", broken);
                prop_assert!(!format.fits(&key[..key.len() - 1]));
            }
        }

        /// A stored origin list reads back unchanged, and every listed origin may send and read, in any case.
        #[test]
        fn listed_origins_are_let_in(hosts in proptest::collection::vec("[a-z][a-z0-9-]{0,20}\\.example(:[0-9]{2,5})?", 1..5), slash in any::<bool>()) {
            let sent: Vec<String> = hosts.iter().map(|h| format!("https://{h}{}", if slash { "/" } else { "" })).collect();
            let stored = parse_allowed_origins(&json!(sent)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(parse_allowed_origins(&json!(stored)), Ok(stored.clone()));
            for h in &hosts {
                let origin = format!("https://{}", h.to_uppercase());
                prop_assert!(origin_may_send(&stored, &origin) && origin_may_read(&stored, &origin));
                let plain = format!("http://{h}");
                prop_assert!(!origin_may_send(&stored, &plain));
            }
            prop_assert!(!origin_may_send(&stored, "null") && !origin_may_read(&stored, "null"));
        }
    }
}
