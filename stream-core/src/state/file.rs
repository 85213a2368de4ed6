//! The container of a state file: a version line, a length, length-prefixed sections and
//! a CRC32 trailer.
//!
//! ```text
//! v1\n                      format version line (as every checkpoint file)
//! u64 LE  payload length    bytes of the sections that follow
//! payload                   per section: u64 LE length, then the section's bytes
//! u32 LE  CRC32             of every byte before it (version line included)
//! ```
//!
//! The length makes a truncated file recognisable as such; the checksum catches any
//! other damaged byte before a section is parsed.

#[cfg(feature = "disk-state")]
use std::fs::File;
#[cfg(feature = "disk-state")]
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use crate::checkpoint::FORMAT_VERSION;
use crate::{Result, StreamError};

/// Bytes of a file holding `sections`.
#[cfg(test)]
pub(crate) fn encode(sections: &[&[u8]]) -> Vec<u8> {
    let mut file = Encoder::with_capacity(sections.iter().map(|s| s.len()).sum());
    for section in sections {
        file.section(|out| {
            out.extend_from_slice(section);
            Ok(())
        })
        .unwrap_or_default();
    }
    file.finish()
}

/// A file's bytes written section by section into one buffer, each section's writer
/// appending to it directly (no section is built apart and copied in).
pub(crate) struct Encoder {
    out: Vec<u8>,
}

impl Encoder {
    /// An empty file whose sections are expected to take about `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let mut out = Vec::with_capacity(capacity + 64);
        out.extend_from_slice(format!("v{FORMAT_VERSION}\n").as_bytes());
        out.extend_from_slice(&0u64.to_le_bytes());
        Encoder { out }
    }

    /// Appends a section: `write` appends its bytes to the buffer it is given.
    pub(crate) fn section(&mut self, write: impl FnOnce(&mut Vec<u8>) -> Result<()>) -> Result<()> {
        let at = self.out.len();
        self.out.extend_from_slice(&0u64.to_le_bytes());
        write(&mut self.out)?;
        let len = (self.out.len() - at - 8) as u64;
        self.out[at..at + 8].copy_from_slice(&len.to_le_bytes());
        Ok(())
    }

    /// The file's bytes: the payload length filled in and the checksum appended.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        let header = format!("v{FORMAT_VERSION}\n").len();
        let payload = (self.out.len() - header - 8) as u64;
        self.out[header..header + 8].copy_from_slice(&payload.to_le_bytes());
        let crc = crc32fast::hash(&self.out);
        self.out.extend_from_slice(&crc.to_le_bytes());
        self.out
    }
}

/// Writes a file of one section into `file` (empty, at its start) without holding the
/// section in memory: `write` streams the section's bytes into the writer it is given;
/// the lengths are filled in and the checksum appended afterwards. The bytes are those
/// [`Encoder`] gives for the same section.
#[cfg(feature = "disk-state")]
pub(crate) fn write_one_section(
    file: &mut File,
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let io = |e| StreamError::io(path, e);
    let version = format!("v{FORMAT_VERSION}\n");
    let mut body = Checksummed {
        out: BufWriter::with_capacity(1 << 20, &mut *file),
        crc: crc32fast::Hasher::new(),
        len: 0,
    };
    body.out.write_all(version.as_bytes()).map_err(io)?;
    body.out.write_all(&[0; 16]).map_err(io)?;
    write(&mut body)?;
    let Checksummed { out, crc, len } = body;
    let file = out.into_inner().map_err(|e| io(e.into_error()))?;
    let mut head = version.into_bytes();
    head.extend_from_slice(&(len + 8).to_le_bytes());
    head.extend_from_slice(&len.to_le_bytes());
    let mut total = crc32fast::Hasher::new();
    total.update(&head);
    total.combine(&crc);
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    file.write_all(&head).map_err(io)?;
    file.seek(SeekFrom::End(0)).map_err(io)?;
    file.write_all(&total.finalize().to_le_bytes()).map_err(io)
}

/// A writer that counts and checksums the bytes it passes on.
#[cfg(feature = "disk-state")]
struct Checksummed<W> {
    out: W,
    crc: crc32fast::Hasher,
    len: u64,
}

#[cfg(feature = "disk-state")]
impl<W: Write> Write for Checksummed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.crc.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// The `expected` sections of the file `path` whose bytes are `bytes`, after checking
/// its version line, its length and its checksum. Every failure names `path`.
pub(crate) fn decode<'a>(path: &Path, bytes: &'a [u8], expected: usize) -> Result<Vec<&'a [u8]>> {
    if bytes.is_empty() {
        return Err(StreamError::corrupt(path, "is empty"));
    }
    let body = version_checked(path, bytes)?;
    let header = bytes.len() - body.len();
    let Some(len) = body.get(..8) else {
        return Err(truncated(path, bytes.len(), None));
    };
    let payload_len = u64::from_le_bytes(len.try_into().unwrap_or_default());
    let total = usize::try_from(payload_len)
        .ok()
        .and_then(|p| p.checked_add(header + 8 + 4));
    match total {
        Some(total) if total == bytes.len() => {}
        Some(total) if total > bytes.len() => {
            return Err(truncated(path, bytes.len(), Some(total)));
        }
        Some(total) => {
            return Err(StreamError::corrupt(
                path,
                format!(
                    "has {} unexpected byte(s) after its end (its header announces {total} bytes)",
                    bytes.len() - total
                ),
            ));
        }
        None => return Err(truncated(path, bytes.len(), None)),
    }
    let (content, trailer) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes(trailer.try_into().unwrap_or_default());
    let computed = crc32fast::hash(content);
    if stored != computed {
        return Err(StreamError::corrupt(
            path,
            format!(
                "fails its checksum (stored CRC32 {stored:08x}, computed {computed:08x}): the file is damaged"
            ),
        ));
    }
    let mut payload = &content[header + 8..];
    let mut sections = Vec::with_capacity(expected);
    while !payload.is_empty() {
        let len = payload
            .get(..8)
            .map(|l| u64::from_le_bytes(l.try_into().unwrap_or_default()))
            .and_then(|l| usize::try_from(l).ok())
            .filter(|&l| l <= payload.len() - 8)
            .ok_or_else(|| {
                StreamError::corrupt(path, "has a section longer than the file's payload")
            })?;
        sections.push(&payload[8..8 + len]);
        payload = &payload[8 + len..];
    }
    if sections.len() != expected {
        return Err(StreamError::corrupt(
            path,
            format!(
                "holds {} section(s) where {expected} were expected",
                sections.len()
            ),
        ));
    }
    Ok(sections)
}

/// The bytes after a valid version line.
fn version_checked<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a [u8]> {
    let newline = bytes.iter().take(16).position(|&b| b == b'\n');
    let line = newline.map_or(&bytes[..bytes.len().min(16)], |n| &bytes[..n]);
    let text = String::from_utf8_lossy(line);
    match text.strip_prefix('v').map(str::parse::<u32>) {
        Some(Ok(FORMAT_VERSION)) if newline.is_some() => {}
        Some(Ok(v)) if v > FORMAT_VERSION && newline.is_some() => {
            return Err(StreamError::UnsupportedCheckpointVersion {
                path: path.to_path_buf(),
                found: text.into_owned(),
                supported: FORMAT_VERSION,
            });
        }
        _ => {
            return Err(StreamError::corrupt(
                path,
                format!(
                    "first line should be the version `v{FORMAT_VERSION}`, found `{}`",
                    text.escape_debug()
                ),
            ));
        }
    }
    Ok(&bytes[line.len() + 1..])
}

fn truncated(path: &Path, len: usize, expected: Option<usize>) -> StreamError {
    StreamError::corrupt(
        path,
        match expected {
            Some(expected) => {
                format!("is truncated: it has {len} bytes but its header announces {expected}")
            }
            None => format!("is truncated: {len} bytes end before its header does"),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("/ck/state/0/0/3.delta")
    }

    #[cfg(feature = "disk-state")]
    #[test]
    fn a_streamed_section_is_written_as_the_encoder_writes_it() {
        let section: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("3.snapshot");
        let mut f = std::fs::File::create(&path).unwrap();
        write_one_section(&mut f, &path, |out| {
            for chunk in section.chunks(70_001) {
                out.write_all(chunk)
                    .map_err(|e| StreamError::io(&path, e))?;
            }
            Ok(())
        })
        .unwrap();
        drop(f);
        let written = std::fs::read(&path).unwrap();
        assert_eq!(written, encode(&[&section]));
        assert_eq!(decode(&path, &written, 1).unwrap(), [&section[..]]);
    }

    fn error(bytes: &[u8]) -> String {
        decode(p(), bytes, 2).unwrap_err().to_string()
    }

    #[test]
    fn sections_round_trip_and_the_layout_is_as_documented() {
        let bytes = encode(&[b"abc", b""]);
        assert_eq!(&bytes[..3], b"v1\n");
        assert_eq!(bytes.len(), 3 + 8 + (8 + 3) + 8 + 4);
        assert_eq!(u64::from_le_bytes(bytes[3..11].try_into().unwrap()), 19);
        let crc = crc32fast::hash(&bytes[..bytes.len() - 4]);
        assert_eq!(bytes[bytes.len() - 4..], crc.to_le_bytes());
        assert_eq!(decode(p(), &bytes, 2).unwrap(), vec![&b"abc"[..], &b""[..]]);
    }

    #[test]
    fn every_damaged_byte_is_caught_naming_the_file() {
        let good = encode(&[b"some section", b"another"]);
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x20;
            let err = decode(p(), &bad, 2).unwrap_err();
            let text = err.to_string();
            assert!(text.contains("3.delta"), "byte {i}: {text}");
            assert!(
                matches!(err, StreamError::CorruptCheckpoint { .. }),
                "byte {i}: {err:?}"
            );
        }
    }

    #[test]
    fn a_flipped_payload_byte_fails_the_checksum() {
        let mut bad = encode(&[b"some section", b"x"]);
        bad[25] ^= 1;
        let text = error(&bad);
        assert!(text.contains("fails its checksum"), "{text}");
    }

    #[test]
    fn truncation_at_any_length_says_truncated() {
        let good = encode(&[b"some section", b"x"]);
        for len in 3..good.len() {
            let text = error(&good[..len]);
            assert!(text.contains("is truncated"), "{len}: {text}");
        }
        assert!(error(&[]).contains("is empty"));
        assert!(error(b"v1").contains("first line should be the version `v1`"));
    }

    #[test]
    fn a_newer_version_line_is_unsupported_and_garbage_is_corrupt() {
        let mut v2 = encode(&[b"a", b"b"]);
        v2[1] = b'2';
        match decode(p(), &v2, 2).unwrap_err() {
            StreamError::UnsupportedCheckpointVersion {
                path,
                found,
                supported,
            } => {
                assert_eq!(path, p());
                assert_eq!((found.as_str(), supported), ("v2", 1));
            }
            other => panic!("{other:?}"),
        }
        let text = error(b"PAR1\x00\x01\x02 not a state file");
        assert!(
            text.contains("first line should be the version `v1`, found `PAR1"),
            "{text}"
        );
    }

    #[test]
    fn trailing_bytes_and_a_wrong_section_count_are_corrupt() {
        let mut longer = encode(&[b"a", b"b"]);
        longer.push(0);
        assert!(error(&longer).contains("1 unexpected byte(s)"));
        let one = encode(&[b"a"]);
        assert!(error(&one).contains("holds 1 section(s) where 2 were expected"));
    }
}
