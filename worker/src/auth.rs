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

/// The bearer token of a request, if any.
pub fn bearer(req: &Request) -> Option<String> {
    let h = req.headers().get("authorization").ok().flatten()?;
    let (scheme, rest) = h.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The user name of HTTP Basic auth: Segment SDKs send the write key there.
pub fn basic_user(req: &Request) -> Result<Option<String>, ApiError> {
    let Some(h) = req.headers().get("authorization").ok().flatten() else { return Ok(None) };
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
        return match verify_embed(&token, secrets, now_s) {
            EmbedCheck::Valid(s, generation) if s == site.site && generation == site.embed_generation => Ok(()),
            EmbedCheck::Valid(s, _) if s == site.site => {
                Err(ApiError::unauthorized("token_revoked", "the embed token was revoked; ask for a new one"))
            }
            EmbedCheck::Valid(..) => Err(ApiError::forbidden("wrong_site", "this token is for another site")),
            EmbedCheck::Expired => Err(ApiError::unauthorized("token_expired", "the embed token has expired")),
            EmbedCheck::Invalid => Err(ApiError::unauthorized("invalid_token", "the token is not valid")),
        };
    }
    match credential_site(&token, secrets, store).await? {
        Some(Credential::Read) => Err(ApiError::forbidden("wrong_site", "this token is for another site")),
        Some(Credential::Write) => Err(ApiError::forbidden("write_key_cannot_read", "a write key cannot read reports")),
        None => Err(ApiError::unauthorized("invalid_token", "the token is not valid")),
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
