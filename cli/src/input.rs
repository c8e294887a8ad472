//! Event files as they exist: NDJSON, gzipped NDJSON (Segment's S3 archive writes `.gz` files), several files
//! in one run, and `-` for standard input. Gzip is recognised by its magic bytes, not by the file name.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The name `-` stands for standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// How a path is named in messages.
pub fn display(path: &Path) -> String {
    if is_stdin(path) { "<stdin>".into() } else { path.display().to_string() }
}

/// Opens one events source as lines of text, decompressing gzip (one or several members) when it starts
/// with gzip's magic bytes.
pub fn open(path: &Path) -> Result<Box<dyn BufRead>, String> {
    let raw: Box<dyn Read> = if is_stdin(path) {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(path).map_err(|e| format!("{}: {e}", display(path)))?)
    };
    let mut reader = BufReader::with_capacity(1 << 20, raw);
    let head = reader.fill_buf().map_err(|e| format!("{}: {e}", display(path)))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(1 << 20, flate2::bufread::MultiGzDecoder::new(reader))))
    } else {
        Ok(Box::new(reader))
    }
}

/// Calls `f(path, line number, line)` for every non-blank line of every source, in order. Standard input may
/// be named once.
pub fn for_each_line(
    paths: &[PathBuf],
    mut f: impl FnMut(&Path, usize, &str) -> Result<(), String>,
) -> Result<(), String> {
    if paths.iter().filter(|p| is_stdin(p)).count() > 1 {
        return Err("standard input (-) can be read only once".into());
    }
    for path in paths {
        let mut reader = open(path)?;
        // One buffer for every line (`lines()` allocated and freed a string per line).
        let mut buffer = String::new();
        for number in 1.. {
            buffer.clear();
            let read = reader.read_line(&mut buffer).map_err(|e| format!("{}: line {number}: {e}", display(path)))?;
            if read == 0 {
                break;
            }
            // As `lines()` gives it: without its `\n` or `\r\n`.
            let line = buffer.strip_suffix('\n').map_or(buffer.as_str(), |l| l.strip_suffix('\r').unwrap_or(l));
            if line.trim().is_empty() {
                continue;
            }
            f(path, number, line)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Write;

    fn gz(text: &str) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn plain_gzip_and_concatenated_gzip_members_read_alike() {
        let dir = std::env::temp_dir().join(format!("daytwo-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let plain = dir.join("a.ndjson");
        // CRLF and LF endings, a blank line, a last line without an ending: read as `lines()` reads them.
        std::fs::write(&plain, "1\r\n\n2\n{\"a\":\"b\\r\"}\r\nlast").unwrap();
        let packed = dir.join("b.json.gz");
        let mut two_members = gz("3\n");
        two_members.extend(gz("4\n"));
        std::fs::write(&packed, two_members).unwrap();
        let mut seen = Vec::new();
        for_each_line(&[plain.clone(), packed.clone()], |p, n, l| {
            seen.push((p.file_name().unwrap().to_string_lossy().into_owned(), n, l.to_owned()));
            Ok(())
        })
        .unwrap();
        let want = [
            ("a.ndjson", 1, "1"),
            ("a.ndjson", 3, "2"),
            ("a.ndjson", 4, "{\"a\":\"b\\r\"}"),
            ("a.ndjson", 5, "last"),
            ("b.json.gz", 1, "3"),
            ("b.json.gz", 2, "4"),
        ];
        assert_eq!(seen, want.map(|(a, b, c)| (a.to_owned(), b, c.to_owned())));
        assert!(for_each_line(&[PathBuf::from("-"), PathBuf::from("-")], |_, _, _| Ok(())).is_err());
        assert!(for_each_line(&[dir.join("missing")], |_, _, _| Ok(())).unwrap_err().contains("missing"));
        let invalid = dir.join("c.ndjson");
        std::fs::write(&invalid, b"1\n\xff\n").unwrap();
        let err = for_each_line(&[invalid], |_, _, _| Ok(())).unwrap_err();
        assert!(err.contains("c.ndjson: line 2:"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
