//! Fixtures for the file source tests: landing files with fixed modification times,
//! opening a source on a manual clock, draining it the way the engine does.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arrow_array::RecordBatch;
use stream_core::{FileSource, ManualClock, Offset, Source, SourceContext};

/// The modification time `land` gives a file with sequence number `seq`, in ms.
pub fn mtime_ms(seq: u64) -> i64 {
    (1_700_000_000 + seq as i64) * 1000
}

/// Writes `bytes` to `dir/rel` (creating folders) with modification time
/// `1_700_000_000 + seq` seconds.
pub fn land(dir: &Path, rel: &str, bytes: impl AsRef<[u8]>, seq: u64) -> PathBuf {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("create landing folders");
    }
    fs::write(&path, bytes).expect("write landing file");
    set_mtime(&path, seq);
    path
}

/// Sets the modification time of `path` to `1_700_000_000 + seq` seconds.
pub fn set_mtime(path: &Path, seq: u64) {
    let mtime = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + seq);
    fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(mtime))
        .expect("set mtime");
}

/// gzip-compressed `text`.
pub fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).expect("gzip");
    encoder.finish().expect("gzip")
}

/// zstd-compressed `text`.
pub fn zstd(text: &str) -> Vec<u8> {
    zstd::stream::encode_all(text.as_bytes(), 3).expect("zstd")
}

/// A source context in `checkpoint` on a manual clock.
pub fn context(checkpoint: &Path, clock: &ManualClock) -> SourceContext {
    SourceContext {
        metadata_dir: checkpoint.join("sources/0"),
        clock: Arc::new(clock.clone()),
        index: 0,
    }
}

/// Opens `source` on `checkpoint` with a manual clock at `mtime_ms(1000)`.
pub fn open(mut source: FileSource, checkpoint: &Path) -> FileSource {
    let clock = ManualClock::new(mtime_ms(1000));
    source
        .open(&context(checkpoint, &clock))
        .expect("source opens");
    source
}

/// One trigger as the engine runs it: the next offset under the source's own limit and
/// the rows of that range; `None` if nothing is new. Moves `start` on.
pub fn next_batch(source: &mut FileSource, start: &mut Option<Offset>) -> Option<Vec<RecordBatch>> {
    let limit = source.default_read_limit();
    let end = source
        .latest_offset(start.as_ref(), limit)
        .expect("latest offset");
    if end.is_none() || end == *start {
        return None;
    }
    let end = end.expect("an offset");
    let batches = source.read(start.as_ref(), &end).expect("read");
    source.commit(&end).expect("commit");
    *start = Some(end);
    Some(batches)
}

/// Every batch until nothing is new, each as canonical JSON rows in order.
pub fn drain(source: &mut FileSource, start: &mut Option<Offset>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    while let Some(batches) = next_batch(source, start) {
        out.push(batches.iter().flat_map(crate::batch_rows).collect());
    }
    out
}

/// The first batch's read error (after taking every new file).
pub fn read_error(source: &mut FileSource) -> stream_core::StreamError {
    let end = source
        .latest_offset(None, stream_core::ReadLimit::All)
        .expect("latest offset")
        .expect("a new file");
    source.read(None, &end).expect_err("the read fails")
}
