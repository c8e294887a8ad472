//! Personal data never reaches storage: every message is scrubbed at ingest, before it is stored or folded.
//!
//! - **E-mail addresses.** A key that names an e-mail (`email`, `Email`, `emailAddress`, `work_email`, …, matched
//!   case-insensitively at any depth) is replaced by `{key}_sha256`: the salted SHA-256 of the normalised
//!   address (per-site secret salt), so a Lead still "has contact". Any other string, at any depth, and every id
//!   (`userId`, `anonymousId`, `groupId`, `previousId`, `messageId`), has each e-mail-shaped run (including
//!   `%40`-encoded ones) replaced by `email_sha256:` and the first 16 hex digits of the same digest: the same
//!   address always gives the same id, so an account keyed by an e-mail stays one account, shown as its digest.
//! - **Query strings and fragments.** `url`, `referrer`, `path`, `search`, `href` and `link` values (any depth)
//!   lose their query string except `utm_*` and the site's allow-list (`ingest.keep_query_params`), and their
//!   fragment (`#access_token=…`).
//! - **IP addresses.** `ip` keys (any depth, Segment's is `context.ip`) are dropped, or truncated to the network
//!   (`ingest.ip = "truncate"`: IPv4 /24, IPv6 /48).
//!
//! Pure and total: any JSON in, scrubbed JSON out.

use crate::message::hex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// What happens to IP addresses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpPolicy {
    /// Removed (the default).
    #[default]
    Drop,
    /// Kept to the network: IPv4 `a.b.c.0`, IPv6 the first three groups.
    Truncate,
}

/// The site's scrubbing rules and salt.
#[derive(Clone, Copy, Debug)]
pub struct Scrubber<'a> {
    pub salt: &'a str,
    /// Query parameters kept besides `utm_*` (names, case-insensitive).
    pub keep_params: &'a [String],
    pub ip: IpPolicy,
}

/// Prefix of an e-mail address replaced inside a string or an id.
pub const TOKEN_PREFIX: &str = "email_sha256:";

/// Salted SHA-256 of a normalised (trimmed, lower-case) e-mail address, hex-encoded.
pub fn email_digest(email: &str, salt: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0u8]);
    h.update(email.trim().to_lowercase().as_bytes());
    hex(&h.finalize())
}

/// The id under which an id as sent is stored (an e-mail address in it becomes its token), so an admin or a
/// reader can name an account by the address it was sent with.
pub fn stored_id(id: &str, salt: &str) -> String {
    Scrubber { salt, keep_params: &[], ip: IpPolicy::Drop }.text(id)
}

/// Whether a key names an e-mail address: `email`, `Email`, `e-mail`, `emailAddress`, `work_email`, `mail`.
pub fn is_email_key(key: &str) -> bool {
    // The key's ASCII letters and digits, lower-cased, read without building them (this runs for every key of
    // every message): "email" anywhere in them, or exactly "mail". "email" repeats no prefix of itself, so after
    // a mismatch a new match can only start at the byte that broke it.
    const EMAIL: &[u8] = b"email";
    let folded = || key.bytes().filter(u8::is_ascii_alphanumeric).map(|b| b.to_ascii_lowercase());
    let mut matched = 0;
    for b in folded() {
        matched = if b == EMAIL[matched] { matched + 1 } else { usize::from(b == EMAIL[0]) };
        if matched == EMAIL.len() {
            return true;
        }
    }
    folded().eq(b"mail".iter().copied())
}

/// Whether an object's key holds an address to digest: an e-mail key not digested yet. The token of an
/// address inside a key (what an address used as a key becomes, `email_sha256:…`) does not make it one, so
/// scrubbing a scrubbed object again changes nothing.
fn names_email(key: &str) -> bool {
    !key.ends_with("_sha256")
        && if key.contains(TOKEN_PREFIX) { is_email_key(&key.replace(TOKEN_PREFIX, "")) } else { is_email_key(key) }
}

fn is_url_key(key: &str) -> bool {
    ["url", "referrer", "referer", "path", "search", "href", "link"].iter().any(|k| key.eq_ignore_ascii_case(k))
}

fn is_ip_key(key: &str) -> bool {
    let folded = || key.bytes().filter(|b| !matches!(b, b'_' | b'-')).map(|b| b.to_ascii_lowercase());
    folded().eq(b"ip".iter().copied()) || folded().eq(b"ipaddress".iter().copied())
}

fn local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-' | b'\'')
}

fn domain_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// The e-mail-shaped runs of `s`: (start, end, the address with `%40` read as `@`).
fn find_emails(s: &str) -> Vec<(usize, usize, String)> {
    let b = s.as_bytes();
    // Most strings hold neither sign: two `memchr` scans answer for them faster than the byte loop below.
    if !b.contains(&b'@') && !b.contains(&b'%') {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut i = 0;
    let mut last_end = 0;
    while i < b.len() {
        let at_len = if b[i] == b'@' {
            1
        } else if b[i] == b'%' && b.get(i + 1) == Some(&b'4') && b.get(i + 2) == Some(&b'0') {
            3
        } else {
            0
        };
        if at_len == 0 {
            i += 1;
            continue;
        }
        let mut start = i;
        while start > last_end && local_char(b[start - 1]) {
            start -= 1;
        }
        let mut end = i + at_len;
        while end < b.len() && domain_char(b[end]) {
            end += 1;
        }
        while end > i + at_len && matches!(b[end - 1], b'.' | b'-') {
            end -= 1;
        }
        let domain = &s[i + at_len..end];
        let tld_ok = domain.rsplit_once('.').is_some_and(|(head, tld)| {
            !head.is_empty() && tld.len() >= 2 && tld.bytes().all(|c| c.is_ascii_alphabetic())
        });
        if start < i && tld_ok {
            out.push((start, end, format!("{}@{domain}", &s[start..i])));
            last_end = end;
            i = end;
        } else if start == last_end
            && tld_ok
            && let Some(previous) = out.last_mut().filter(|p| p.1 == i)
        {
            // A domain straight after an address (`a@b.co@c.de`) goes with it: left behind, it would follow the
            // address's token, whose digits a second scrub would read as its local part.
            previous.1 = end;
            last_end = end;
            i = end;
        } else {
            i += at_len;
        }
    }
    out
}

impl Scrubber<'_> {
    /// The token that stands for an e-mail address inside strings and ids.
    pub fn token(&self, email: &str) -> String {
        format!("{TOKEN_PREFIX}{}", &email_digest(email, self.salt)[..16])
    }

    /// `s` with every e-mail-shaped run replaced by its token.
    pub fn text(&self, s: &str) -> String {
        let found = find_emails(s);
        if found.is_empty() {
            return s.to_owned();
        }
        let mut out = String::with_capacity(s.len());
        let mut pos = 0;
        for (start, end, email) in found {
            out.push_str(&s[pos..start]);
            out.push_str(&self.token(&email));
            pos = end;
        }
        out.push_str(&s[pos..]);
        out
    }

    /// [`Self::text`] of an owned string: the string itself, not a copy, when it holds no address (nearly
    /// every string: this runs on every key and value of every message).
    pub fn text_owned(&self, s: String) -> String {
        if find_emails(&s).is_empty() { s } else { self.text(&s) }
    }

    /// A URL (or a bare `?query`) without its fragment and without query parameters other than `utm_*` and the
    /// allow-list; what is kept is scrubbed of e-mail addresses too.
    pub fn url(&self, url: &str) -> String {
        let without_fragment = url.split('#').next().unwrap_or("");
        let (base, query) = match without_fragment.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (without_fragment, None),
        };
        let mut out = self.text(base);
        if let Some(q) = query {
            // A pair is kept for its name as scrubbed: a name that held an address (`utm_jane@x.io`) is a token
            // now, kept by no rule, so scrubbing the URL again keeps exactly what this kept.
            let kept: Vec<String> = q
                .split('&')
                .map(|pair| self.text(pair))
                .filter(|pair| {
                    let name = pair.split('=').next().unwrap_or("").to_ascii_lowercase();
                    name.starts_with("utm_") || self.keep_params.iter().any(|k| k.eq_ignore_ascii_case(&name))
                })
                .collect();
            if !kept.is_empty() {
                out.push('?');
                out.push_str(&kept.join("&"));
            }
        }
        out
    }

    fn ip(&self, ip: &str) -> Option<String> {
        match self.ip {
            IpPolicy::Drop => None,
            // Fewer than three groups is no IPv6 address, and dropped like an IPv4 one of the wrong shape (kept,
            // `a:b` would become `a:b::`, which a second truncation would read as three groups).
            IpPolicy::Truncate if ip.contains(':') => {
                let groups: Vec<&str> = ip.split(':').take(3).collect();
                (groups.len() == 3).then(|| format!("{}::", groups.join(":")))
            }
            IpPolicy::Truncate => {
                let parts: Vec<&str> = ip.split('.').collect();
                (parts.len() == 4).then(|| format!("{}.{}.{}.0", parts[0], parts[1], parts[2]))
            }
        }
    }

    /// Scrubs one value found under `key` (recursively for objects and arrays).
    fn value(&self, key: &str, v: Value) -> Value {
        match v {
            Value::String(s) if is_url_key(key) => Value::String(self.url(&s)),
            Value::String(s) => Value::String(self.text_owned(s)),
            Value::Array(items) => Value::Array(items.into_iter().map(|i| self.value(key, i)).collect()),
            Value::Object(map) => Value::Object(self.map(map)),
            other => other,
        }
    }

    /// Scrubs an object: e-mail keys become `{key}_sha256`, IP keys are dropped or truncated, every string
    /// (keys included) is scrubbed.
    pub fn map(&self, mut map: Map<String, Value>) -> Map<String, Value> {
        // Nearly every object keeps its keys as they are (no address in them, none to digest or drop): its values
        // are then scrubbed where they lie instead of the object being rebuilt key by key.
        if map.keys().all(|k| !names_email(k) && !is_ip_key(k) && find_emails(k).is_empty()) {
            for (k, v) in map.iter_mut() {
                *v = self.value(k, std::mem::take(v));
            }
            return map;
        }
        let mut out = Map::new();
        for (k, v) in map {
            // Judged as scrubbed, the way a second scrub will see it: a token's digits can join the text after
            // it (`…2e]mail`) into what reads as an e-mail key.
            let key = self.text_owned(k);
            let names_email = names_email(&key);
            if names_email {
                match v {
                    Value::String(s) if s.trim().is_empty() => {}
                    Value::String(s) => {
                        out.insert(format!("{key}_sha256"), Value::String(email_digest(&s, self.salt)));
                    }
                    Value::Null => {}
                    other => {
                        out.insert(key.clone(), self.value(&key, other));
                    }
                }
            } else if is_ip_key(&key) {
                // Scrubbed like any string first: an IP field is whatever a client put there.
                if let Some(ip) = v.as_str().and_then(|s| self.ip(&self.text(s))) {
                    out.insert(key, Value::String(ip));
                }
            } else {
                let v = self.value(&key, v);
                out.insert(key, v);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const KEEP: &[String] = &[];

    fn scrubber() -> Scrubber<'static> {
        Scrubber { salt: "salt", keep_params: KEEP, ip: IpPolicy::Drop }
    }

    #[test]
    fn finds_addresses_where_they_hide() {
        let cases: [(&str, &[&str]); 7] = [
            ("jane@example.com", &["jane@example.com"]),
            ("Contact: Jane.Doe+x@Mail.Example.co.uk.", &["Jane.Doe+x@Mail.Example.co.uk"]),
            // `%40` reads as `@`.
            ("/signup?email=jane%40example.com&x=1", &["jane@example.com"]),
            ("a@b.c", &[]),
            ("@example.com", &[]),
            ("twitter @handle", &[]),
            ("x@y.io,z@w.org", &["x@y.io", "z@w.org"]),
        ];
        for (input, want) in cases {
            let got: Vec<String> = find_emails(input).into_iter().map(|(_, _, e)| e).collect();
            assert_eq!(got, want.to_vec(), "{input}");
        }
    }

    #[test]
    fn messages_lose_addresses_query_strings_and_ips() {
        let s = Scrubber { keep_params: &["ref".to_owned()], ..scrubber() };
        let input = json!({
            "Email": "Jane@Example.com",
            "contact": {"emailAddress": "jane@example.com", "note": "write to jane@example.com"},
            "url": "https://shop.example/checkout?email=jane%40example.com&token=s3cret&utm_source=news&ref=x#access_token=t",
            "referrer": "https://mail.example/?u=jane@example.com",
            "ip": "203.0.113.7",
            "tags": ["a", "jane@example.com"],
        });
        let Value::Object(map) = input else { unreachable!() };
        let out = Value::Object(s.map(map));
        let text = out.to_string();
        assert!(!text.to_lowercase().contains("jane@example.com") && !text.contains("jane%40"), "{text}");
        assert!(!text.contains("s3cret") && !text.contains("access_token") && !text.contains("203.0.113"), "{text}");
        let digest = email_digest("jane@example.com", "salt");
        assert_eq!(out["Email_sha256"], json!(digest));
        assert_eq!(out["contact"]["emailAddress_sha256"], json!(digest));
        assert_eq!(out["url"], json!("https://shop.example/checkout?utm_source=news&ref=x"));
        assert_eq!(out["referrer"], json!("https://mail.example/"));
        assert_eq!(out["tags"][1], json!(s.token("jane@example.com")));
        assert_eq!(out["contact"]["note"], json!(format!("write to {}", s.token("jane@example.com"))));
        let truncating = Scrubber { ip: IpPolicy::Truncate, ..scrubber() };
        let Value::Object(m) = json!({"ip": "203.0.113.7", "v6": {"ip": "2001:db8:85a3:8d3:1319:8a2e:370:7348"}})
        else {
            unreachable!()
        };
        let out = truncating.map(m);
        assert_eq!(Value::Object(out), json!({"ip": "203.0.113.0", "v6": {"ip": "2001:db8:85a3::"}}));
    }

    /// What the ingest fuzz target found (`fuzz/`): objects that changed when scrubbed again, and an address in
    /// an IP field that survived truncation. Each input is scrubbed once (checked against what it must give)
    /// and again (which must change nothing).
    #[test]
    fn scrubbing_twice_changes_nothing() {
        let s = Scrubber { ip: IpPolicy::Truncate, ..scrubber() };
        let token = |e: &str| s.token(e);
        let cases = [
            // An address used as a key becomes a token, and a token in a key does not make it an e-mail key.
            (json!({"a@b.co": "x"}), json!({(token("a@b.co")): "x"})),
            // A domain straight after an address goes with it (left behind, a second scrub would read the
            // token's digits as its local part); text that only looks like a token hides no address.
            (json!({"note": "a@b.co@c.de!"}), json!({"note": format!("{}!", token("a@b.co"))})),
            (json!({"id": "a@b.co%40c.de"}), json!({"id": token("a@b.co")})),
            (
                json!({"n": "x@y.email_sha256:0123456789abcdef@victim.com"}),
                json!({"n": format!("{}_sha256:{}", token("x@y.email"), token("0123456789abcdef@victim.com"))}),
            ),
            // A query pair is kept for its name as scrubbed: `utm_a@b.co` is a token now.
            (json!({"url": "https://x.io/p?utm_a@b.co=1&utm_ok=2"}), json!({"url": "https://x.io/p?utm_ok=2"})),
            // Fewer than three groups is no IPv6 address: dropped, as `a:b::` would truncate to `a:b:::`.
            (json!({"ip": "a:b", "v6": {"ip": "2001:db8:85a3::1"}}), json!({"v6": {"ip": "2001:db8:85a3::"}})),
            // An address in an IP field is scrubbed before truncation.
            (
                json!({"ip": "8004:db8%40example.com:1::"}),
                json!({"ip": format!("8004:{}::", token("db8@example.com"))}),
            ),
        ];
        // A key judged before it was scrubbed (`a…@b.co]mail`: no e-mail key) read as one after it (the token's
        // last digit `e` and `]mail`), so its second scrub digested the value: found by the ingest fuzz target.
        let address = (0..64).map(|i| format!("a{i}@b.co")).find(|a| token(a).ends_with('e')).unwrap_or_default();
        let joined = (
            json!({ format!("{address}]mail"): "x" }),
            json!({ format!("{}]mail_sha256", token(&address)): email_digest("x", s.salt) }),
        );
        for (input, want) in cases.into_iter().chain([joined]) {
            let Value::Object(m) = input.clone() else { unreachable!() };
            let once = s.map(m);
            assert_eq!(Value::Object(once.clone()), want, "{input}");
            assert_eq!(s.map(once.clone()), once, "{input} scrubbed again");
        }
    }

    fn email() -> impl Strategy<Value = String> {
        ("[a-zA-Z0-9][a-zA-Z0-9._+-]{0,12}", "[a-z0-9]{1,10}", "(com|org|io|example|co\\.uk)")
            .prop_map(|(l, d, t)| format!("{l}@{d}.{t}"))
    }

    /// Keys made of the pieces the key rules look for, in any case, with separators and other characters.
    fn key() -> impl Strategy<Value = String> {
        const PIECES: &[&str] = &[
            "e",
            "E",
            "mail",
            "MAIL",
            "Mail",
            "email",
            "e-mail",
            "ip",
            "IP",
            "address",
            "_",
            "-",
            "url",
            "Path",
            "ref",
            "é",
            " ",
            "x",
            "1",
            TOKEN_PREFIX,
            "_sha256",
        ];
        let piece = proptest::sample::select(PIECES);
        proptest::collection::vec(piece, 0..6).prop_map(|p| p.concat())
    }

    proptest! {
        /// The key rules read keys without building strings, and answer what their plain definitions answer.
        #[test]
        fn key_rules_match_their_definitions(k in key()) {
            let letters = k.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
            prop_assert_eq!(is_email_key(&k), letters.contains("email") || letters == "mail", "{}", k);
            prop_assert_eq!(
                names_email(&k),
                !k.ends_with("_sha256") && is_email_key(&k.replace(TOKEN_PREFIX, "")),
                "{}", k
            );
            let lower = k.to_ascii_lowercase();
            prop_assert_eq!(
                is_url_key(&k),
                matches!(lower.as_str(), "url" | "referrer" | "referer" | "path" | "search" | "href" | "link"),
                "{}", k
            );
            prop_assert_eq!(is_ip_key(&k), matches!(lower.replace(['_', '-'], "").as_str(), "ip" | "ipaddress"), "{}", k);
        }

        /// `text_owned` is `text`, with or without an address in the string.
        #[test]
        fn text_owned_is_text(e in email(), filler in "[ a-zA-Z0-9:/?=&%@.]{0,20}", with in proptest::bool::ANY) {
            let s = scrubber();
            let input = if with { format!("{filler}{e}{filler}") } else { filler };
            prop_assert_eq!(s.text_owned(input.clone()), s.text(&input));
        }

        /// No scrubbed output contains an address that was in the input, wherever it was put.
        #[test]
        fn no_address_survives(e in email(), filler in "[ a-zA-Z0-9:/?=&]{0,20}", place in 0usize..6) {
            let s = scrubber();
            let v = match place {
                0 => json!({"email": e.clone()}),
                1 => json!({"note": format!("{filler}{e} {filler}")}),
                2 => json!({"url": format!("https://x.io/p?{filler}&e={}&utm_term={e}", e.replace('@', "%40"))}),
                3 => json!({"deep": [{"WorkEmail": e.clone()}, {"x": [e.clone()]}]}),
                4 => json!({(e.clone()): "key is an address"}),
                _ => json!({"search": format!("?q={e}"), "path": format!("/u/{e}")}),
            };
            let Value::Object(m) = v else { unreachable!() };
            let out = Value::Object(s.map(m)).to_string().to_lowercase();
            let lower = e.to_lowercase();
            prop_assert!(!out.contains(&lower), "{} in {}", lower, out);
            prop_assert!(!out.contains(&lower.replace('@', "%40")), "{} in {}", lower, out);
        }
    }
}
