//! Gzip request bodies (RFC 1952), read exactly as `flate2::read::GzDecoder` reads them, without its checksum
//! crate: `crc32fast` carries a 16 KB table that does not compress (with `flate2`'s gzip reader, 19.6 KB gzip
//! of the bundle, the Worker's cold start, for a few bodies a day). The header rules, the buffering (32 KB, so
//! the raw stream is inflated in the same pieces), the raw inflater (`flate2::bufread::DeflateDecoder`) and the
//! trailer check are `flate2`'s; the CRC-32 is computed here with a table built per body. The tests compare both
//! on valid, damaged, truncated and oversized bodies.

use std::io::{self, BufRead, BufReader, Read};

const FHCRC: u8 = 1 << 1;
const FEXTRA: u8 = 1 << 2;
const FNAME: u8 = 1 << 3;
const FCOMMENT: u8 = 1 << 4;
const FRESERVED: u8 = 0xe0;
/// `flate2`'s limit on a header's file name or comment.
const MAX_HEADER_FIELD: usize = 65_535;
/// `flate2::read::GzDecoder`'s input buffer.
const BUFFER: usize = 32 * 1024;

/// Decodes the first gzip member of `body` (what follows it is ignored, as `GzDecoder` ignores it) into at most
/// `limit` bytes: `Ok(out)` with `out.len() == limit` when the member inflates to `limit` bytes or more (its
/// trailer is then not checked, as `GzDecoder::take(limit)` does not reach it).
pub fn decode(body: &[u8], limit: usize) -> io::Result<Vec<u8>> {
    if limit == 0 {
        // `take(0)` never reads: not even a bad header is reported.
        return Ok(Vec::new());
    }
    let table = crc_table();
    let mut input = BufReader::with_capacity(BUFFER, body);
    header(&mut input, &table)?;
    let mut member = Member { inflate: flate2::bufread::DeflateDecoder::new(input), table, crc: !0, amount: 0 };
    let mut out = Vec::new();
    (&mut member).take(limit as u64).read_to_end(&mut out)?;
    if out.len() < limit {
        // The inflater ran to the end of the stream: the trailer must match what it produced.
        let mut trailer = [0u8; 8];
        member.inflate.get_mut().read_exact(&mut trailer)?;
        let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
        let amount = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
        if crc != !member.crc || amount != member.amount {
            return Err(corrupt());
        }
    }
    Ok(out)
}

/// The raw stream of one member, with the CRC-32 and length (mod 2^32) of what it produced so far.
struct Member<'a> {
    inflate: flate2::bufread::DeflateDecoder<BufReader<&'a [u8]>>,
    table: [u32; 256],
    crc: u32,
    amount: u32,
}

impl Read for Member<'_> {
    fn read(&mut self, into: &mut [u8]) -> io::Result<usize> {
        let n = self.inflate.read(into)?;
        self.crc = update(&self.table, self.crc, &into[..n]);
        self.amount = self.amount.wrapping_add(n as u32);
        Ok(n)
    }
}

/// Reads and checks the header, as `flate2`'s `GzHeaderParser` does (its header CRC included).
fn header(input: &mut BufReader<&[u8]>, table: &[u32; 256]) -> io::Result<()> {
    let mut fixed = [0u8; 10];
    input.read_exact(&mut fixed)?;
    if fixed[0] != 0x1f || fixed[1] != 0x8b || fixed[2] != 8 || fixed[3] & FRESERVED != 0 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "invalid gzip header"));
    }
    let flags = fixed[3];
    let mut crc = update(table, !0, &fixed);
    if flags & FEXTRA != 0 {
        let mut xlen = [0u8; 2];
        input.read_exact(&mut xlen)?;
        let mut extra = vec![0u8; usize::from(u16::from_le_bytes(xlen))];
        input.read_exact(&mut extra)?;
        crc = update(table, update(table, crc, &xlen), &extra);
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let mut field = Vec::new();
            input.read_until(0, &mut field)?;
            if field.pop() != Some(0) {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            if field.len() > MAX_HEADER_FIELD {
                return Err(io::Error::new(io::ErrorKind::InvalidInput, "gzip header field too long"));
            }
            crc = update(table, crc, &field);
            crc = update(table, crc, &[0]);
        }
    }
    if flags & FHCRC != 0 {
        let mut stored = [0u8; 2];
        input.read_exact(&mut stored)?;
        if u16::from_le_bytes(stored) != !crc as u16 {
            return Err(corrupt());
        }
    }
    Ok(())
}

fn corrupt() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "corrupt gzip stream does not have a matching checksum")
}

/// CRC-32 (IEEE 802.3, reflected), one byte at a time; the table takes 2,048 steps to build.
fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    for (n, entry) in table.iter_mut().enumerate() {
        let mut c = n as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *entry = c;
    }
    table
}

fn update(table: &[u32; 256], mut crc: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        crc = table[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, GzBuilder};
    use std::io::Write;

    /// What the Worker did before: `flate2::read::GzDecoder`, read up to `limit` bytes.
    fn reference(body: &[u8], limit: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(body).take(limit as u64).read_to_end(&mut out)?;
        Ok(out)
    }

    fn same(body: &[u8], limit: usize) {
        match (decode(body, limit), reference(body, limit)) {
            (Ok(a), Ok(b)) => assert!(a == b, "{} bytes vs {}", a.len(), b.len()),
            (Err(_), Err(_)) => {}
            (a, b) => {
                panic!("decode {:?} vs flate2 {:?} ({} byte body)", a.map(|v| v.len()), b.map(|v| v.len()), body.len())
            }
        }
    }

    fn gzip(bytes: &[u8], builder: GzBuilder, level: u32) -> Vec<u8> {
        let mut enc = builder.write(Vec::new(), Compression::new(level));
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    /// A small deterministic generator (no dependency): xorshift64*.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    fn payloads(rng: &mut Rng) -> Vec<Vec<u8>> {
        let json = br#"{"batch":[{"type":"track","userId":"u","event":"Logged In","properties":{"plan":"pro"}}]}"#;
        let mut noise = vec![0u8; 70_000];
        noise.iter_mut().for_each(|b| *b = rng.next() as u8);
        vec![
            Vec::new(),
            json.to_vec(),
            json.repeat(2_000),
            vec![b' '; 100_000],
            noise,
            (0..200_000u32).map(|i| (i % 251) as u8).collect(),
        ]
    }

    /// Headers with and without the optional fields (`GzBuilder` is not `Clone`: one constructor each).
    fn builders() -> [fn() -> GzBuilder; 4] {
        [
            GzBuilder::new,
            || GzBuilder::new().filename("batch.json").comment("from a test").mtime(1_700_000_000),
            || GzBuilder::new().extra(vec![7u8; 300]).filename("x"),
            || GzBuilder::new().comment(vec![b'c'; 70_000]),
        ]
    }

    #[test]
    fn agrees_with_flate2_on_valid_bodies_at_every_limit() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for payload in payloads(&mut rng) {
            for builder in builders() {
                for level in [0, 1, 6, 9] {
                    let body = gzip(&payload, builder(), level);
                    for limit in [0, 1, payload.len().saturating_sub(1), payload.len(), payload.len() + 1, 500_001] {
                        same(&body, limit);
                    }
                    let mut trailing = body.clone();
                    trailing.extend_from_slice(b"trailing bytes after the member");
                    same(&trailing, 500_001);
                    let mut two = body.clone();
                    two.extend_from_slice(&body);
                    same(&two, 500_001);
                }
            }
        }
        assert_eq!(decode(&gzip(b"hello", GzBuilder::new(), 6), 100).unwrap(), b"hello");
    }

    #[test]
    fn agrees_with_flate2_on_damaged_and_truncated_bodies() {
        let mut rng = Rng(0x0123_4567_89ab_cdef);
        let payloads = payloads(&mut rng);
        for (i, payload) in payloads.iter().enumerate() {
            // Damage shows in the first blocks as well as in later ones: 20 KB of each payload is plenty, and
            // keeps the test fast in a debug build.
            let payload = &payload[..payload.len().min(20_000)];
            // Not the 70 KB comment: its header is longer, not different (the valid-body test reads it).
            for builder in &builders()[..3] {
                let body = gzip(payload, builder(), [1, 6, 9][i % 3]);
                // Every header byte, the trailer, and random bytes of the stream, flipped one bit at a time.
                let mut positions: Vec<usize> = (0..body.len().min(30)).collect();
                positions.extend(body.len().saturating_sub(8)..body.len());
                positions.extend((0..16).map(|_| rng.below(body.len())));
                for pos in positions {
                    let mut damaged = body.clone();
                    damaged[pos] ^= 1 << rng.below(8);
                    same(&damaged, 500_001);
                    same(&damaged, payload.len());
                }
                for cut in [0, 1, 9, 10, 11, body.len() / 3, body.len() / 2, body.len() - 8, body.len() - 1] {
                    same(&body[..cut.min(body.len())], 500_001);
                }
            }
        }
        for junk in [&b"definitely not gzip"[..], b"", b"\x1f", b"\x1f\x8b", b"\x1f\x8b\x08\xff\0\0\0\0\0\0"] {
            same(junk, 500_001);
        }
    }

    #[test]
    fn header_flags_and_checksums_as_flate2_reads_them() {
        let raw = {
            let mut e = flate2::write::DeflateEncoder::new(Vec::new(), Compression::default());
            e.write_all(b"payload").unwrap();
            e.finish().unwrap()
        };
        let crc = {
            let mut c = flate2::Crc::new();
            c.update(b"payload");
            c.sum()
        };
        let mut trailer = crc.to_le_bytes().to_vec();
        trailer.extend_from_slice(&7u32.to_le_bytes());
        for flags in 0..=255u8 {
            let mut header = vec![0x1f, 0x8b, 8, flags, 1, 2, 3, 4, 0, 3];
            if flags & FEXTRA != 0 {
                header.extend_from_slice(&[3, 0, b'a', b'b', b'c']);
            }
            if flags & FNAME != 0 {
                header.extend_from_slice(b"name\0");
            }
            if flags & FCOMMENT != 0 {
                header.extend_from_slice(b"comment\0");
            }
            let mut c = flate2::Crc::new();
            c.update(&header);
            for stored in [(c.sum() as u16).to_le_bytes(), [0, 0]] {
                let mut body = header.clone();
                if flags & FHCRC != 0 {
                    body.extend_from_slice(&stored);
                }
                body.extend_from_slice(&raw);
                body.extend_from_slice(&trailer);
                same(&body, 500_001);
            }
        }
    }

    #[test]
    fn crc_is_the_ieee_crc32() {
        let table = crc_table();
        assert_eq!(!update(&table, !0, b"123456789"), 0xcbf4_3926);
        let mut c = flate2::Crc::new();
        c.update(b"The quick brown fox jumps over the lazy dog");
        assert_eq!(!update(&table, !0, b"The quick brown fox jumps over the lazy dog"), c.sum());
    }
}
