//! [`JsonFileSource`]: a landing folder of newline-delimited JSON files (Spark's
//! `FileStreamSource` with the `json` format), now a [`FileSource`] in the JSON format.

use super::file::FileSource;
pub(crate) use super::file::decode::json::{decode_all, find_bad_record};

#[cfg(test)]
use {
    super::file::LogOffset,
    super::{ReadLimit, Source, SourceContext},
    crate::checkpoint::MetadataLog,
    crate::{Offset, StreamError},
    arrow_array::RecordBatch,
    arrow_schema::SchemaRef,
    std::fs::{self, File},
    std::path::PathBuf,
    std::time::UNIX_EPOCH,
};

/// Reads the newline-delimited JSON files that land in a folder, each file once, with a
/// given schema (Spark's file stream source with the `json` format): the
/// [`FileSource`] whose [`FileSource::new`] reads JSON lines. Every option of
/// [`FileSource`] applies.
///
/// - New files are found by listing the folder (and its `key=value` partition
///   folders; not other sub-folders). Names starting with `.` or `_` are ignored:
///   write a file under such a name, then rename it, so the source never sees it half
///   written. New files are taken in order of modification time (milliseconds), then
///   name.
/// - Each offset, `{"logOffset": n}`, is entry `n` of the source's log in the
///   checkpoint (`sources/<i>/n`), which lists the files it took, one JSON line per file
///   (`{"path": .., "timestamp": <mtime ms>, "batchId": n}`, Spark's `FileEntry`). A
///   restarted query rebuilds the set of files it has seen from that log, so no file is
///   read twice or skipped.
/// - Rows decode with `arrow-json` against the schema: fields not in the schema are
///   ignored, missing nullable fields are null, ISO-8601 strings decode into timestamp
///   columns. A record that does not decode stops the query with
///   [`crate::StreamError::MalformedRecord`] naming the file and line (see
///   [`FileSource::mode`] for the other modes).
/// - The folder must exist when the query starts ([`crate::Source::open`]); a logged
///   file must stay until the batch that reads it is committed.
///
/// ```
/// use std::sync::Arc;
/// use arrow_schema::{DataType, Field, Schema};
/// use stream_core::{JsonFileSource, ManualClock, ReadLimit, Source, SourceContext};
///
/// let landing = tempfile::tempdir().unwrap();
/// let checkpoint = tempfile::tempdir().unwrap();
/// std::fs::write(landing.path().join("a.json"), "{\"n\": 1}\n{\"n\": 2}\n").unwrap();
///
/// let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
/// let mut source = JsonFileSource::new(landing.path(), schema);
/// let ctx = SourceContext { metadata_dir: checkpoint.path().join("sources/0"), clock: Arc::new(ManualClock::new(0)), index: 0 };
/// source.open(&ctx).unwrap();
/// let end = source.latest_offset(None, ReadLimit::All).unwrap().unwrap();
/// assert_eq!(end.json(), r#"{"logOffset":0}"#);
/// assert_eq!(source.read(None, &end).unwrap()[0].num_rows(), 2);
/// // nothing new: the same offset again
/// assert_eq!(source.latest_offset(Some(&end), ReadLimit::All).unwrap(), Some(end));
/// ```
pub type JsonFileSource = FileSource;

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use arrow_array::cast::AsArray;
    use arrow_array::types::{Int64Type, TimestampMicrosecondType};
    use arrow_schema::{DataType, Field, Schema, TimeUnit};

    use super::*;
    use crate::ManualClock;

    struct Fixture {
        landing: tempfile::TempDir,
        checkpoint: tempfile::TempDir,
    }

    impl Fixture {
        fn new() -> Self {
            Fixture {
                landing: tempfile::tempdir().unwrap(),
                checkpoint: tempfile::tempdir().unwrap(),
            }
        }

        /// Writes `name` with rows `{"id": v}` and the given mtime (seconds).
        fn file(&self, name: &str, ids: &[i64], mtime_s: u64) -> PathBuf {
            let text: String = ids.iter().map(|i| format!("{{\"id\": {i}}}\n")).collect();
            self.raw(name, &text, mtime_s)
        }

        fn raw(&self, name: &str, text: &str, mtime_s: u64) -> PathBuf {
            let path = self.landing.path().join(name);
            fs::write(&path, text).unwrap();
            let f = File::options().write(true).open(&path).unwrap();
            f.set_modified(UNIX_EPOCH + Duration::from_secs(mtime_s))
                .unwrap();
            path
        }

        fn source(&self) -> JsonFileSource {
            JsonFileSource::new(self.landing.path(), schema())
        }

        fn open(&self, mut source: JsonFileSource) -> JsonFileSource {
            source.open(&self.ctx()).unwrap();
            source
        }

        fn ctx(&self) -> SourceContext {
            SourceContext {
                metadata_dir: self.checkpoint.path().join("sources/0"),
                clock: Arc::new(ManualClock::new(0)),
                index: 0,
            }
        }
    }

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, true)]))
    }

    fn log_offset(n: u64) -> Offset {
        Offset::from_value(&LogOffset { log_offset: n }).unwrap()
    }

    fn ids(batches: &[RecordBatch]) -> Vec<i64> {
        batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect()
    }

    /// Runs the engine's loop until nothing is new: the ids of each batch.
    fn drain(source: &mut JsonFileSource, mut start: Option<Offset>) -> Vec<Vec<i64>> {
        let mut out = Vec::new();
        loop {
            let limit = source.default_read_limit();
            let end = source.latest_offset(start.as_ref(), limit).unwrap();
            if end.is_none() || end == start {
                return out;
            }
            let end = end.unwrap();
            out.push(ids(&source.read(start.as_ref(), &end).unwrap()));
            start = Some(end);
        }
    }

    #[test]
    fn files_are_taken_by_mtime_then_name() {
        let fx = Fixture::new();
        fx.file("c.json", &[3], 100);
        fx.file("a.json", &[1], 200);
        fx.file("b.json", &[2], 100);
        let mut source = fx.open(fx.source().max_files_per_trigger(1));
        assert_eq!(drain(&mut source, None), vec![vec![2], vec![3], vec![1]]);
    }

    #[test]
    fn max_files_per_trigger_splits_batches() {
        let fx = Fixture::new();
        for i in 0..5 {
            fx.file(&format!("f{i}.json"), &[i], 100 + i as u64);
        }
        let mut source = fx.open(fx.source().max_files_per_trigger(2));
        assert_eq!(
            drain(&mut source, None),
            vec![vec![0, 1], vec![2, 3], vec![4]]
        );
    }

    #[test]
    fn the_read_limit_passed_in_is_authoritative() {
        let fx = Fixture::new();
        for i in 0..7 {
            fx.file(&format!("f{i}.json"), &[i], 100 + i as u64);
        }
        let mut source = fx.open(fx.source().max_files_per_trigger(2));
        let end = source
            .latest_offset(None, ReadLimit::MaxFiles(1))
            .unwrap()
            .unwrap();
        assert_eq!(ids(&source.read(None, &end).unwrap()), vec![0]);
        let next = source
            .latest_offset(Some(&end), ReadLimit::MaxFiles(3))
            .unwrap()
            .unwrap();
        assert_eq!(ids(&source.read(Some(&end), &next).unwrap()), vec![1, 2, 3]);
        // Trigger::Once passes All: every new file, whatever max_files_per_trigger says
        let last = source
            .latest_offset(Some(&next), ReadLimit::All)
            .unwrap()
            .unwrap();
        assert_eq!(
            ids(&source.read(Some(&next), &last).unwrap()),
            vec![4, 5, 6]
        );
    }

    #[test]
    fn without_a_limit_every_new_file_is_taken() {
        let fx = Fixture::new();
        fx.file("a.json", &[1, 2], 100);
        fx.file("b.json", &[3], 101);
        let mut source = fx.open(fx.source());
        assert_eq!(source.default_read_limit(), ReadLimit::All);
        assert_eq!(drain(&mut source, None), vec![vec![1, 2, 3]]);
    }

    #[test]
    fn hidden_underscore_files_and_folders_are_ignored() {
        let fx = Fixture::new();
        fx.file(".a.json", &[1], 100);
        fx.file("_b.json", &[2], 100);
        fx.file("c.json", &[3], 100);
        fs::create_dir(fx.landing.path().join("sub")).unwrap();
        fs::write(fx.landing.path().join("sub/d.json"), "{\"id\": 4}\n").unwrap();
        let mut source = fx.open(fx.source());
        assert_eq!(drain(&mut source, None), vec![vec![3]]);
    }

    #[test]
    fn nothing_yet_is_none_and_nothing_new_is_start() {
        let fx = Fixture::new();
        let mut source = fx.open(fx.source());
        assert_eq!(source.latest_offset(None, ReadLimit::All).unwrap(), None);
        fx.file("a.json", &[1], 100);
        let end = source.latest_offset(None, ReadLimit::All).unwrap();
        assert_eq!(end, Some(log_offset(0)));
        let again = source.latest_offset(end.as_ref(), ReadLimit::All).unwrap();
        assert_eq!(again, end);
    }

    #[test]
    fn new_files_arriving_later_are_taken_in_later_batches() {
        let fx = Fixture::new();
        fx.file("a.json", &[1], 100);
        let mut source = fx.open(fx.source());
        let first = drain(&mut source, None);
        fx.file("b.json", &[2], 50); // older mtime than a file already taken
        let end = Some(log_offset(0));
        assert_eq!(first, vec![vec![1]]);
        assert_eq!(drain(&mut source, end), vec![vec![2]]);
    }

    #[test]
    fn log_entries_are_sparks_file_entries() {
        let fx = Fixture::new();
        let path = fx.file("a.json", &[1], 100);
        let mut source = fx.open(fx.source());
        source.latest_offset(None, ReadLimit::All).unwrap();
        let log = MetadataLog::open(fx.checkpoint.path().join("sources/0")).unwrap();
        let lines = log.get(0).unwrap().unwrap();
        let entry: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(entry["path"], path.to_str().unwrap());
        assert_eq!(entry["timestamp"], 100_000);
        assert_eq!(entry["batchId"], 0);
    }

    #[test]
    fn restart_neither_rereads_nor_skips_files() {
        let fx = Fixture::new();
        fx.file("a.json", &[1], 100);
        fx.file("b.json", &[2], 101);
        let mut first = fx.open(fx.source().max_files_per_trigger(1));
        let end = first
            .latest_offset(None, first.default_read_limit())
            .unwrap()
            .unwrap();
        assert_eq!(ids(&first.read(None, &end).unwrap()), vec![1]);
        let end = first
            .latest_offset(Some(&end), first.default_read_limit())
            .unwrap()
            .unwrap();
        assert_eq!(
            ids(&first.read(Some(&log_offset(0)), &end).unwrap()),
            vec![2]
        );
        drop(first);

        fx.file("c.json", &[3], 102);
        let mut second = fx.open(fx.source().max_files_per_trigger(1));
        assert_eq!(drain(&mut second, Some(end)), vec![vec![3]]);
    }

    #[test]
    fn pending_entry_is_replayed_before_listing() {
        let fx = Fixture::new();
        fx.file("a.json", &[1], 100);
        fx.file("b.json", &[2], 101);
        let mut first = fx.open(fx.source());
        // entries 0 and 1 logged, then a crash before batch 1 was written to offsets/
        first.latest_offset(None, ReadLimit::MaxFiles(1)).unwrap();
        first
            .latest_offset(Some(&log_offset(0)), ReadLimit::MaxFiles(1))
            .unwrap();
        drop(first);

        fx.file("c.json", &[3], 102);
        let mut second = fx.open(fx.source());
        let next = second
            .latest_offset(Some(&log_offset(0)), ReadLimit::All)
            .unwrap();
        assert_eq!(
            next,
            Some(log_offset(1)),
            "the pending entry, not merged with c.json"
        );
        assert_eq!(
            ids(&second.read(Some(&log_offset(0)), &log_offset(1)).unwrap()),
            vec![2]
        );
        assert_eq!(drain(&mut second, Some(log_offset(1))), vec![vec![3]]);
    }

    #[test]
    fn pending_entry_is_replayed_from_the_very_start() {
        let fx = Fixture::new();
        fx.file("a.json", &[1], 100);
        fx.open(fx.source())
            .latest_offset(None, ReadLimit::All)
            .unwrap();
        let mut second = fx.open(fx.source());
        assert_eq!(
            second.latest_offset(None, ReadLimit::All).unwrap(),
            Some(log_offset(0))
        );
    }

    #[test]
    fn start_beyond_the_log_is_a_corrupt_checkpoint() {
        let fx = Fixture::new();
        let mut source = fx.open(fx.source());
        let err = source
            .latest_offset(Some(&log_offset(3)), ReadLimit::All)
            .unwrap_err();
        assert!(
            matches!(err, StreamError::CorruptCheckpoint { .. }),
            "{err}"
        );
    }

    #[test]
    fn available_now_only_takes_the_files_present_when_prepared() {
        let fx = Fixture::new();
        fx.file("a.json", &[1], 100);
        fx.file("b.json", &[2], 101);
        let mut source = fx.open(fx.source().max_files_per_trigger(1));
        source.prepare_for_available_now().unwrap();
        fx.file("c.json", &[3], 99);
        assert_eq!(drain(&mut source, None), vec![vec![1], vec![2]]);

        // the next run takes the file that arrived during this one
        let mut next_run = fx.open(fx.source());
        next_run.prepare_for_available_now().unwrap();
        assert_eq!(drain(&mut next_run, Some(log_offset(1))), vec![vec![3]]);
    }

    #[test]
    fn reading_the_same_range_twice_gives_the_same_rows() {
        let fx = Fixture::new();
        fx.file("a.json", &[1, 2], 100);
        fx.file("b.json", &[3], 101);
        let mut source = fx.open(fx.source());
        let end = source.latest_offset(None, ReadLimit::All).unwrap().unwrap();
        let first = source.read(None, &end).unwrap();
        let second = source.read(None, &end).unwrap();
        assert_eq!(first, second);
        let mut restarted = fx.open(fx.source());
        assert_eq!(restarted.read(None, &end).unwrap(), first);
    }

    #[test]
    fn malformed_line_error_names_file_and_line() {
        let fx = Fixture::new();
        let path = fx.raw(
            "bad.json",
            "{\"id\": 1}\n\n{\"id\": 2}\n{\"id\": \"two\"}\n{\"id\": 4}\n",
            100,
        );
        let mut source = fx.open(fx.source());
        let end = source.latest_offset(None, ReadLimit::All).unwrap().unwrap();
        match source.read(None, &end).unwrap_err() {
            StreamError::MalformedRecord { path: p, line, .. } => {
                assert_eq!(p, path);
                assert_eq!(line, 4);
            }
            other => panic!("expected a malformed record, got {other}"),
        }
    }

    #[test]
    fn broken_json_syntax_names_the_line() {
        let fx = Fixture::new();
        fx.raw("bad.json", "{\"id\": 1}\n{\"id\": 2\n{\"id\": 3}\n", 100);
        let mut source = fx.open(fx.source());
        let end = source.latest_offset(None, ReadLimit::All).unwrap().unwrap();
        match source.read(None, &end).unwrap_err() {
            StreamError::MalformedRecord { line, .. } => assert_eq!(line, 3),
            other => panic!("expected a malformed record, got {other}"),
        }
    }

    #[test]
    fn find_bad_record_reports_an_unfinished_last_record() {
        let bad = find_bad_record(&schema(), b"{\"id\": 1}\n{\"id\":").unwrap();
        assert_eq!(bad.line, 2);
        assert_eq!(
            find_bad_record(&schema(), b"{\"id\": 1}\n{\"id\": 2}\n"),
            None
        );
    }

    #[test]
    fn missing_logged_file_names_file_and_batch() {
        let fx = Fixture::new();
        let path = fx.file("a.json", &[1], 100);
        let mut source = fx.open(fx.source());
        let end = source.latest_offset(None, ReadLimit::All).unwrap().unwrap();
        fs::remove_file(&path).unwrap();
        let err = source.read(None, &end).unwrap_err().to_string();
        assert!(err.contains(path.to_str().unwrap()), "{err}");
        assert!(err.contains("batch 0"), "{err}");
    }

    #[test]
    fn iso_8601_strings_decode_into_timestamps() {
        let fx = Fixture::new();
        fx.raw(
            "t.json",
            "{\"ts\": \"2024-03-01T12:00:00Z\"}\n{\"ts\": \"2024-03-01T12:00:01.5+01:00\"}\n",
            100,
        );
        let tz = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let schema = Arc::new(Schema::new(vec![Field::new("ts", tz, true)]));
        let mut source = JsonFileSource::new(fx.landing.path(), schema);
        source.open(&fx.ctx()).unwrap();
        let end = source.latest_offset(None, ReadLimit::All).unwrap().unwrap();
        let batches = source.read(None, &end).unwrap();
        let ts = batches[0]
            .column(0)
            .as_primitive::<TimestampMicrosecondType>();
        let noon = chrono::DateTime::parse_from_rfc3339("2024-03-01T12:00:00Z").unwrap();
        assert_eq!(ts.value(0), noon.timestamp_micros());
        assert_eq!(
            ts.value(1),
            noon.timestamp_micros() - 3_600_000_000 + 1_500_000
        );
    }

    #[test]
    fn invalid_max_files_and_missing_folder_fail_at_open() {
        let fx = Fixture::new();
        let mut zero = fx.source().max_files_per_trigger(0);
        match zero.open(&fx.ctx()) {
            Err(StreamError::InvalidOption { name, .. }) => {
                assert_eq!(name, "max_files_per_trigger")
            }
            other => panic!("expected an invalid option, got {other:?}"),
        }
        let missing = fx.landing.path().join("nope");
        let err = JsonFileSource::new(&missing, schema())
            .open(&fx.ctx())
            .unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn use_before_open_is_an_error() {
        let fx = Fixture::new();
        let mut source = fx.source();
        assert!(source.latest_offset(None, ReadLimit::All).is_err());
        assert!(source.prepare_for_available_now().is_err());
    }

    #[test]
    fn description_names_the_folder() {
        let fx = Fixture::new();
        let expected = format!("FileStreamSource[file:{}]", fx.landing.path().display());
        assert_eq!(fx.source().description(), expected);
    }
}
