//! The Worker's embed-token verifier (`worker/src/auth.rs`, reached through `daytwo_worker::fuzzing`).
//!
//! Properties:
//! - any string is judged without a panic, and a token it accepts (valid or merely expired, which also means
//!   its signature matched) is exactly the token the Worker's own minting gives for the site, generation and
//!   expiry it names: nothing that was not minted with the secret is accepted;
//! - a token minted for a valid site id verifies as that site and generation before its expiry, as expired
//!   from its expiry on, and as valid when the caller skips the expiry check (`now_s == 0`);
//! - every edit of that token that changes it (the fuzzer's own edits, in its payload or its signature) is
//!   refused as invalid, and so is the token under another secret or with no secret at all.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use daytwo_shared::site_rules::is_valid_site_id;
use daytwo_worker::fuzzing::{EmbedCheck, Secrets, mint_embed, verify_embed};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "fuzz-embed-secret-0123456789";

/// One change to a token.
#[derive(Arbitrary, Debug)]
enum Edit {
    Replace {
        at: u16,
        byte: u8,
    },
    Insert {
        at: u16,
        byte: u8,
    },
    Remove {
        at: u16,
    },
    Truncate {
        len: u16,
    },
    Append {
        text: String,
    },
    /// Moves the expiry field by `delta` seconds (a forged longer life), keeping the signature.
    ShiftExpiry {
        delta: i32,
    },
    /// Replaces the site field, keeping the signature.
    OtherSite {
        site: String,
    },
    /// Sets the generation field, keeping the signature.
    Generation {
        generation: u32,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// Any string, verified as it is.
    raw: String,
    site: String,
    generation: u32,
    expires_s: u64,
    now_s: u64,
    edits: Vec<Edit>,
}

fn secrets(embed_secret: Option<&str>) -> Secrets {
    Secrets { admin_token: None, embed_secret: embed_secret.map(str::to_owned) }
}

/// What the token names itself as, for a token that verified: its site, generation and expiry fields.
fn claimed_expiry(token: &str) -> Option<u64> {
    token.split('.').nth(2)?.parse().ok()
}

/// A verifier that accepted `token` (valid, or expired, which also means its signature matched) must have
/// been given exactly what minting produces for what the token names.
fn assert_accepted_only_if_minted(token: &str, check: &EmbedCheck, s: &Secrets) {
    let Some(expires_s) = claimed_expiry(token) else {
        assert_eq!(*check, EmbedCheck::Invalid, "{token:?} has no expiry field yet verified");
        return;
    };
    let (site, generation) = match check {
        EmbedCheck::Valid(site, generation) => (site.clone(), *generation),
        EmbedCheck::Expired => {
            let site = token.split('.').nth(1).unwrap_or_default().to_owned();
            let generation = token
                .split('.')
                .nth(3)
                .filter(|_| token.split('.').count() == 5)
                .and_then(|g| g.strip_prefix('g')?.parse().ok())
                .unwrap_or(0);
            (site, generation)
        }
        EmbedCheck::Invalid => return,
    };
    let minted = mint_embed(&site, generation, expires_s, s).unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(token, minted, "accepted a token that was not minted ({check:?})");
}

fn apply(token: &str, edit: &Edit) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let at = |i: u16, len: usize| usize::from(i) % (len + 1);
    match edit {
        Edit::Replace { at: i, byte } if !bytes.is_empty() => {
            let i = usize::from(*i) % bytes.len();
            bytes[i] = *byte;
        }
        Edit::Replace { .. } => {}
        Edit::Insert { at: i, byte } => bytes.insert(at(*i, bytes.len()), *byte),
        Edit::Remove { at: i } if !bytes.is_empty() => {
            bytes.remove(usize::from(*i) % bytes.len());
        }
        Edit::Remove { .. } => {}
        Edit::Truncate { len } => bytes.truncate(usize::from(*len)),
        Edit::Append { text } => bytes.extend_from_slice(text.as_bytes()),
        Edit::ShiftExpiry { delta } => {
            let mut fields: Vec<String> = token.split('.').map(str::to_owned).collect();
            if let Some(e) = fields.get_mut(2).and_then(|f| f.parse::<i64>().ok().map(|v| (f, v))) {
                *e.0 = e.1.saturating_add(i64::from(*delta)).to_string();
            }
            return fields.join(".");
        }
        Edit::OtherSite { site } => {
            let mut fields: Vec<&str> = token.split('.').collect();
            if fields.len() > 1 {
                fields[1] = site;
            }
            return fields.join(".");
        }
        Edit::Generation { generation } => {
            let mut fields: Vec<String> = token.split('.').map(str::to_owned).collect();
            let g = format!("g{generation}");
            if fields.len() == 5 {
                fields[3] = g;
            } else if fields.len() == 4 {
                fields.insert(3, g);
            }
            return fields.join(".");
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn check(input: Input) {
    let s = secrets(Some(SECRET));
    for now_s in [input.now_s, 0, 1] {
        let check = verify_embed(&input.raw, &s, now_s);
        assert_accepted_only_if_minted(&input.raw, &check, &s);
    }

    if !is_valid_site_id(&input.site) {
        return;
    }
    let token = mint_embed(&input.site, input.generation, input.expires_s, &s)
        .unwrap_or_else(|e| panic!("minting failed: {}", e.message));
    let expect_valid = EmbedCheck::Valid(input.site.clone(), input.generation);
    assert_eq!(verify_embed(&token, &s, 0), expect_valid, "{token}");
    let now_s = input.now_s.max(1);
    let want = if now_s < input.expires_s { expect_valid } else { EmbedCheck::Expired };
    assert_eq!(verify_embed(&token, &s, now_s), want, "{token} at {now_s}");
    if input.expires_s > 1 {
        let before = input.expires_s - 1;
        assert!(matches!(verify_embed(&token, &s, before), EmbedCheck::Valid(..)), "{token} at {before}");
    }
    assert_eq!(verify_embed(&token, &s, input.expires_s.max(1)), EmbedCheck::Expired, "{token} at its expiry");
    assert_eq!(verify_embed(&token, &secrets(Some("another-secret-0123456789")), 0), EmbedCheck::Invalid);
    assert_eq!(verify_embed(&token, &secrets(None), 0), EmbedCheck::Invalid);

    let mut edited = token.clone();
    for edit in &input.edits {
        edited = apply(&edited, edit);
        for now_s in [0, now_s] {
            let check = verify_embed(&edited, &s, now_s);
            if edited != token {
                assert_eq!(check, EmbedCheck::Invalid, "{token} edited to {edited:?} was not refused");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) {
        check(input);
    }
});
