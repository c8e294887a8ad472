//! Credentials (docs/design.md §7): admin token (Worker secret), per-site read tokens (stored as SHA-256),
//! signed expiring embed tokens (HMAC-SHA256), write keys (public). Comparisons are constant-time.

use crate::error::{ApiError, ApiResult};
use crate::store::{SiteRecord, Store};
use base64::Engine;
use daytwo_shared::site_rules::KeyFormat;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use worker::{Env, Request};

const EMBED_PREFIX: &str = "et1";

/// The secrets the Worker needs; a missing one disables what depends on it instead of failing requests.
pub struct Secrets {
    pub admin_token: Option<String>,
    pub embed_secret: Option<String>,
}

/// Says which secrets are set, never their values (a debug print must not leak them into logs).
impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("admin_token", &self.admin_token.as_ref().map(|_| "…"))
            .field("embed_secret", &self.embed_secret.as_ref().map(|_| "…"))
            .finish()
    }
}

impl Secrets {
    pub fn from_env(env: &Env) -> Secrets {
        let read = |name: &str| {
            env.secret(name)
                .map(|s| s.to_string())
                .or_else(|_| env.var(name).map(|v| v.to_string()))
                .ok()
                .filter(|s| s.len() >= 16)
        };
        Secrets { admin_token: read("ADMIN_TOKEN"), embed_secret: read("EMBED_SECRET") }
    }
}

/// Equality that takes the same time wherever the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn sha256_hex(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` random bytes as hex, from the runtime's CSPRNG.
pub fn random_hex(n: usize) -> ApiResult<String> {
    let mut buf = vec![0u8; n];
    getrandom::getrandom(&mut buf).map_err(|e| ApiError::internal("random", e))?;
    Ok(hex(&buf))
}

/// A fresh credential of `format` (a write key, secret key or read token), from the runtime's CSPRNG.
pub fn mint_key(format: KeyFormat) -> ApiResult<String> {
    Ok(format.with_random_hex(&random_hex(format.random_bytes())?))
}

fn authorization(req: &Request) -> Option<String> {
    req.headers().get("authorization").ok().flatten()
}

/// The bearer token of a request, if any.
pub fn bearer(req: &Request) -> Option<String> {
    bearer_token(&authorization(req)?)
}

/// The token of an `Authorization: Bearer …` header (the scheme in any case); `None` for another scheme.
fn bearer_token(header: &str) -> Option<String> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The user name of HTTP Basic auth: Segment SDKs send the write key there.
pub fn basic_user(req: &Request) -> Result<Option<String>, ApiError> {
    authorization(req).map_or(Ok(None), |h| basic_user_of(&h))
}

/// The user of an `Authorization: Basic …` header; `None` for another scheme or an empty user, 401
/// `malformed_authorization` for a header with no scheme or credentials that are not base64 of UTF-8.
fn basic_user_of(h: &str) -> Result<Option<String>, ApiError> {
    let Some((scheme, rest)) = h.trim().split_once(' ') else {
        return Err(ApiError::unauthorized("malformed_authorization", "Authorization header is malformed"));
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ApiError::unauthorized("malformed_authorization", "Basic credentials are not valid base64"))?;
    let user = decoded.split(':').next().unwrap_or_default().to_owned();
    Ok(Some(user).filter(|u| !u.is_empty()))
}

pub fn is_admin(token: &str, secrets: &Secrets) -> bool {
    secrets.admin_token.as_deref().is_some_and(|a| constant_time_eq(a.as_bytes(), token.as_bytes()))
}

/// Requires the admin token.
pub async fn require_admin(req: &Request, secrets: &Secrets, store: &Store) -> ApiResult<()> {
    let Some(token) = bearer(req) else {
        return Err(ApiError::unauthorized("missing_token", "this route needs the admin token as a Bearer token"));
    };
    if is_admin(&token, secrets) {
        return Ok(());
    }
    // An expired embed token is a bad token (401), not a credential of the wrong kind (403).
    if let EmbedCheck::Expired = verify_embed(&token, secrets, (crate::http::now().0 / 1000) as u64) {
        return Err(ApiError::unauthorized("token_expired", "the embed token has expired"));
    }
    if credential_site(&token, secrets, store).await?.is_some() {
        return Err(ApiError::forbidden("admin_only", "this route needs the admin token"));
    }
    Err(ApiError::unauthorized("invalid_token", "the token is not valid"))
}

/// Requires a credential that may read `site`'s reports: admin, the site's read token or a live embed token.
pub async fn require_reader(
    req: &Request,
    secrets: &Secrets,
    store: &Store,
    site: &SiteRecord,
    now_s: u64,
) -> ApiResult<()> {
    let Some(token) = bearer(req) else {
        return Err(ApiError::unauthorized(
            "missing_token",
            "reports need a read token or embed token as a Bearer token",
        ));
    };
    if is_admin(&token, secrets) || constant_time_eq(sha256_hex(&token).as_bytes(), site.read_token_sha256.as_bytes()) {
        return Ok(());
    }
    if token.starts_with(EMBED_PREFIX) {
        return embed_access(verify_embed(&token, secrets, now_s), &site.site, site.embed_generation);
    }
    match credential_site(&token, secrets, store).await? {
        Some(Credential::Read) => Err(ApiError::forbidden("wrong_site", "this token is for another site")),
        Some(Credential::Write) => Err(ApiError::forbidden("write_key_cannot_read", "a write key cannot read reports")),
        None => Err(ApiError::unauthorized("invalid_token", "the token is not valid")),
    }
}

/// What an embed token's check means for a read of `site`, whose tokens are of `generation`: the site's own
/// live token reads; one of an earlier generation was revoked (401); another site's is the wrong site (403).
fn embed_access(check: EmbedCheck, site: &str, generation: u32) -> ApiResult<()> {
    match check {
        EmbedCheck::Valid(s, g) if s == site && g == generation => Ok(()),
        EmbedCheck::Valid(s, _) if s == site => {
            Err(ApiError::unauthorized("token_revoked", "the embed token was revoked; ask for a new one"))
        }
        EmbedCheck::Valid(..) => Err(ApiError::forbidden("wrong_site", "this token is for another site")),
        EmbedCheck::Expired => Err(ApiError::unauthorized("token_expired", "the embed token has expired")),
        EmbedCheck::Invalid => Err(ApiError::unauthorized("invalid_token", "the token is not valid")),
    }
}

pub enum Credential {
    Read,
    Write,
}

/// What a non-admin token is, if anything: a read token or write key of some site.
async fn credential_site(token: &str, secrets: &Secrets, store: &Store) -> ApiResult<Option<Credential>> {
    if token.len() > 512 {
        return Ok(None);
    }
    if let EmbedCheck::Valid(..) = verify_embed(token, secrets, 0) {
        return Ok(Some(Credential::Read));
    }
    if let Some(_site) = store.read_token_site(&sha256_hex(token)).await? {
        return Ok(Some(Credential::Read));
    }
    Ok(store.ingest_record(token).await?.map(|_| Credential::Write))
}

fn sign(secret: &str, payload: &str) -> Option<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(payload.as_bytes());
    Some(hex(&mac.finalize().into_bytes()))
}

/// Mints `et1.{site}.{expires_unix}.g{generation}.{hmac}` (generation 0 is written without its field, as
/// tokens minted before revocation existed were).
pub fn mint_embed(site: &str, generation: u32, expires_s: u64, secrets: &Secrets) -> ApiResult<String> {
    let secret = secrets
        .embed_secret
        .as_deref()
        .ok_or_else(|| ApiError::new(503, "embed_tokens_disabled", "EMBED_SECRET is not configured"))?;
    let payload = if generation == 0 {
        format!("{EMBED_PREFIX}.{site}.{expires_s}")
    } else {
        format!("{EMBED_PREFIX}.{site}.{expires_s}.g{generation}")
    };
    let sig = sign(secret, &payload).ok_or_else(|| ApiError::internal("hmac", "bad key"))?;
    Ok(format!("{payload}.{sig}"))
}

#[derive(Debug, PartialEq, Eq)]
pub enum EmbedCheck {
    /// Signed for this site, in this generation.
    Valid(String, u32),
    Expired,
    Invalid,
}

/// Checks signature, then expiry (`now_s == 0` skips the expiry check).
pub fn verify_embed(token: &str, secrets: &Secrets, now_s: u64) -> EmbedCheck {
    let Some(secret) = secrets.embed_secret.as_deref() else { return EmbedCheck::Invalid };
    let mut parts = token.rsplitn(2, '.');
    let (Some(sig), Some(payload)) = (parts.next(), parts.next()) else { return EmbedCheck::Invalid };
    let fields: Vec<&str> = payload.split('.').collect();
    let (prefix, site, exp, generation) = match fields[..] {
        [prefix, site, exp] => (prefix, site, exp, Some(0)),
        [prefix, site, exp, g] => (prefix, site, exp, g.strip_prefix('g').and_then(|g| g.parse::<u32>().ok())),
        _ => return EmbedCheck::Invalid,
    };
    let Some(generation) = generation else { return EmbedCheck::Invalid };
    let Some(expected) = sign(secret, payload) else { return EmbedCheck::Invalid };
    if prefix != EMBED_PREFIX || !constant_time_eq(expected.as_bytes(), sig.as_bytes()) {
        return EmbedCheck::Invalid;
    }
    match exp.parse::<u64>() {
        Ok(e) if now_s == 0 || e > now_s => EmbedCheck::Valid(site.to_owned(), generation),
        Ok(_) => EmbedCheck::Expired,
        Err(_) => EmbedCheck::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> Secrets {
        Secrets {
            admin_token: Some("admin-token-0123456789".into()),
            embed_secret: Some("0123456789abcdef0123".into()),
        }
    }

    #[test]
    fn bearer_tokens() {
        for (header, want) in [
            ("Bearer rt_abc", Some("rt_abc")),
            ("bearer  rt_abc ", Some("rt_abc")),
            ("  BEARER et1.acme.1.sig", Some("et1.acme.1.sig")),
            ("Bearer a b", Some("a b")),
            ("Bearer", None),
            ("Bearer  ", None),
            ("Basic d2tfeDo=", None),
            ("Token rt_abc", None),
            ("rt_abc", None),
        ] {
            assert_eq!(bearer_token(header).as_deref(), want, "{header:?}");
        }
    }

    #[test]
    fn basic_users() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        for (header, want) in [
            (format!("Basic {}", b64("wk_key:")), Some("wk_key")),
            (format!("basic {}", b64("wk_key:password:with:colons")), Some("wk_key")),
            (format!("Basic {}", b64("wk_key")), Some("wk_key")),
            (format!("Basic {}", b64(":only-a-password")), None),
            ("Bearer wk_key".to_owned(), None),
        ] {
            let got = basic_user_of(&header).unwrap_or_else(|e| panic!("{header}: {}", e.code));
            assert_eq!(got.as_deref(), want, "{header}");
        }
        let not_utf8 = base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe, b':']);
        // A scheme with nothing after it ("Basic " trims to "Basic") is malformed too.
        for header in ["Basic %%%", "Basic", "Basic ", "garbage", &format!("Basic {not_utf8}")] {
            let e = basic_user_of(header).err().unwrap_or_else(|| panic!("{header} was accepted"));
            assert_eq!((e.status, e.code), (401, "malformed_authorization"), "{header}");
        }
    }

    #[test]
    fn comparisons_and_digests() {
        assert!(constant_time_eq(b"same", b"same"));
        for (a, b) in [(&b"same"[..], &b"samE"[..]), (b"same", b"sam"), (b"", b"x")] {
            assert!(!constant_time_eq(a, b), "{a:?} {b:?}");
        }
        assert!(constant_time_eq(b"", b""));
        // FIPS 180-2's example: the digest of "abc".
        assert_eq!(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let s = secrets();
        assert!(is_admin("admin-token-0123456789", &s));
        for not in ["admin-token-012345678", "admin-token-01234567890", "", "ADMIN-TOKEN-0123456789"] {
            assert!(!is_admin(not, &s), "{not}");
        }
        // A debug print says which secrets are set, never what they are.
        let printed = format!("{s:?}");
        assert!(!printed.contains("admin-token") && !printed.contains("0123456789abcdef0123"), "{printed}");
        // Without an admin secret nothing is the admin token, not even an empty one.
        assert!(!is_admin("", &Secrets { admin_token: None, embed_secret: None }));
    }

    /// What each embed check means for a read of site `acme`, whose tokens are of generation 2.
    #[test]
    fn embed_checks_decide_reads() {
        let code = |check| embed_access(check, "acme", 2).err().map(|e| (e.status, e.code));
        assert_eq!(code(EmbedCheck::Valid("acme".into(), 2)), None);
        assert_eq!(code(EmbedCheck::Valid("acme".into(), 1)), Some((401, "token_revoked")));
        assert_eq!(code(EmbedCheck::Valid("acme".into(), 3)), Some((401, "token_revoked")));
        assert_eq!(code(EmbedCheck::Valid("acme-eu".into(), 2)), Some((403, "wrong_site")));
        assert_eq!(code(EmbedCheck::Expired), Some((401, "token_expired")));
        assert_eq!(code(EmbedCheck::Invalid), Some((401, "invalid_token")));
    }

    #[test]
    fn embed_tokens_are_refused_unless_signed_whole() {
        let s = secrets();
        let t = mint_embed("acme", 0, 2_000_000_000, &s).unwrap_or_else(|e| panic!("{}", e.message));
        assert!(t.starts_with("et1.acme.2000000000.") && t.len() == "et1.acme.2000000000.".len() + 64, "{t}");
        // Expiry: strictly after now; `now_s == 0` skips it (what a credential is, regardless of its age).
        assert!(matches!(verify_embed(&t, &s, 1_999_999_999), EmbedCheck::Valid(..)));
        assert!(matches!(verify_embed(&t, &s, 2_000_000_000), EmbedCheck::Expired));
        assert!(matches!(verify_embed(&t, &s, 0), EmbedCheck::Valid(..)));
        let other_secret = Secrets { embed_secret: Some("another-secret-of-20".into()), ..secrets() };
        let signed_other_prefix =
            |payload: &str| format!("{payload}.{}", sign("0123456789abcdef0123", payload).unwrap_or_default());
        for bad in [
            String::new(),
            "et1".into(),
            "et1.acme.2000000000".into(),
            t.replace("et1.", "et2."),
            signed_other_prefix("et2.acme.2000000000"),
            signed_other_prefix("et1.acme.soon"),
            signed_other_prefix("et1.acme.2000000000.x1"),
            signed_other_prefix("et1.acme.2000000000.g1.extra"),
            format!("{t}0"),
            t.to_uppercase(),
        ] {
            assert!(matches!(verify_embed(&bad, &s, 1), EmbedCheck::Invalid), "{bad}");
        }
        assert!(matches!(verify_embed(&t, &other_secret, 1), EmbedCheck::Invalid));
        let no_secret = Secrets { embed_secret: None, ..secrets() };
        assert!(matches!(verify_embed(&t, &no_secret, 1), EmbedCheck::Invalid));
        assert!(mint_embed("acme", 0, 1, &no_secret).is_err_and(|e| e.code == "embed_tokens_disabled"));
    }

    /// Tokens of every generation verify with theirs; a tampered generation, site or expiry does not.
    #[test]
    fn embed_tokens_carry_their_generation() {
        let secrets = Secrets { admin_token: None, embed_secret: Some("0123456789abcdef0123".into()) };
        let mint = |g| mint_embed("acme", g, 2_000_000_000, &secrets).unwrap_or_else(|e| panic!("{}", e.message));
        for g in [0, 1, 7] {
            let t = mint(g);
            assert!(
                matches!(verify_embed(&t, &secrets, 1_900_000_000), EmbedCheck::Valid(ref s, got) if s == "acme" && got == g)
            );
            assert!(matches!(verify_embed(&t, &secrets, 2_100_000_000), EmbedCheck::Expired));
        }
        let t = mint(1);
        for forged in [
            t.replace(".g1.", ".g0."),
            t.replace(".g1.", ".g2."),
            t.replace("acme", "acmf"),
            t.replace("2000000000", "2000000001"),
        ] {
            assert!(matches!(verify_embed(&forged, &secrets, 1_900_000_000), EmbedCheck::Invalid), "{forged}");
        }
        // A generation-1 token with its field cut off is not a generation-0 token.
        let (payload, sig) = t.rsplit_once('.').unwrap_or_default();
        let cut = format!("{}.{sig}", payload.trim_end_matches(".g1"));
        assert!(matches!(verify_embed(&cut, &secrets, 1_900_000_000), EmbedCheck::Invalid));
    }
}
