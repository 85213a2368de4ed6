//! The live query page (issue 21, item 3) in a real browser: headless Chromium loads
//! the page of a running windowed aggregation, and the page served from the checkpoint
//! of the same kind of query once stopped; the charts it drew (read from the DOM: every
//! chart is an `svg.chart` with `data-chart` and `data-points`) cover the batches of the
//! query's progress records, and each run saves a screenshot under
//! `<target>/monitoring/`.
//!
//! The browser comes from `STREAM_CHROMIUM` (`scripts/install-chromium.sh` prints it;
//! `scripts/test.sh` sets it), else `chromium` or `chromium-browser` on PATH. Without
//! one: under CI (`CI=true`) the tests fail; elsewhere they say loudly that they skipped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use stream_core::types::TimestampMs;
use stream_core::ui::UiServer;
use stream_core::{
    MemoryStream, Schema, StreamingQuery, StreamingQueryManager, StreamingQueryProgress, stream,
};
use tests::runtime;

/// A name with markup in it: the page must show it as text.
const NAME: &str = "page_views <by minute> & page";
const NAME_IN_DOM: &str = "page_views &lt;by minute&gt; &amp; page";

/// The charts the page draws for the selected query.
const CHARTS: [&str; 6] = [
    "rates",
    "input-rows",
    "duration",
    "watermark",
    "state-rows",
    "state-memory",
];

#[derive(Schema, Clone, Debug, PartialEq)]
struct View {
    ts: TimestampMs,
    page: String,
}

/// Input step `i` (0-based): 10 to 80 views, event times advancing 25 s per step.
fn step(i: i64) -> Vec<View> {
    let rows = 10 + (i * 37) % 71;
    (0..rows)
        .map(|r| View {
            ts: TimestampMs(i * 25_000 + r * 20_000 / rows),
            page: ["/", "/docs", "/blog"][(r % 3) as usize].into(),
        })
        .collect()
}

const STEPS: i64 = 6;

/// Starts the windowed count with a watermark on `streams` (serving its page on a free
/// port, writing the memory table `table`), feeds it `STEPS` steps to their end, and
/// returns it running.
fn run_query(streams: &StreamingQueryManager, checkpoint: &Path, table: &str) -> StreamingQuery {
    let views = MemoryStream::of::<View>();
    let query = stream! {
        schema View = View;
        read(memory, stream = {views.clone()}, schema = View)
            .with_watermark(ts, "30 seconds")
            .group_by(window(ts, "1 minute"), page)
            .agg(count() as views)
            .write(memory, name = {table})
    }
    .query_name(NAME)
    .manager(streams)
    .checkpoint_location(checkpoint)
    .ui("127.0.0.1:0")
    .start()
    .unwrap();
    let rt = runtime();
    for i in 0..STEPS {
        views.add_rows(&step(i)).unwrap();
        rt.block_on(query.process_all_available()).unwrap();
    }
    query.as_ref().clone()
}

/// The headless browser, or `None` (after a loud message) where the test may skip.
fn chromium(test: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("STREAM_CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .flat_map(|dir| [dir.join("chromium"), dir.join("chromium-browser")])
            .find(|p| p.is_file())
    });
    if on_path.is_some() {
        return on_path;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "{test}: no Chromium under CI: STREAM_CHROMIUM is not set and no chromium is on \
             PATH; run `export STREAM_CHROMIUM=\"$(scripts/install-chromium.sh | tail -n 1)\"` first"
        );
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!!!!! SKIPPED: {test}: the page was not loaded in a browser, STREAM_CHROMIUM \
         is not set and no chromium is on PATH; run \
         `export STREAM_CHROMIUM=\"$(scripts/install-chromium.sh | tail -n 1)\"` !!!!!!!!\n"
    );
    None
}

/// Runs headless Chromium on `url` with `args` and returns its standard output; the
/// page's JavaScript gets 5 s of virtual time (its first poll of `api/queries` comes at
/// load). A fresh profile per run, so parallel runs do not share one.
fn browse(chromium: &Path, url: &str, args: &[&str]) -> (String, Duration) {
    let profile = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--virtual-time-budget=5000")
        .args(args)
        .arg(url)
        // files, not pipes: nobody reads a pipe while the browser runs, and Chromium
        // writes more than a pipe holds (its logs; the dumped DOM)
        .stdout(std::fs::File::create(profile.path().join("stdout")).unwrap())
        .stderr(std::fs::File::create(profile.path().join("stderr")).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
    // a browser that hangs fails the test instead of the whole run
    let deadline = started + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish loading {url} in 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = child.wait().unwrap();
    let took = started.elapsed();
    let read = |name: &str| {
        String::from_utf8_lossy(&std::fs::read(profile.path().join(name)).unwrap()).into_owned()
    };
    assert!(
        status.success(),
        "chromium {args:?} {url}: {status}\n{}",
        read("stderr")
    );
    (read("stdout"), took)
}

/// Every `<svg ...>` start tag of class `chart` in `dom`: (data-chart, data-points).
fn charts_drawn(dom: &str) -> Vec<(String, usize)> {
    let attr = |tag: &str, name: &str| {
        let key = format!(" {name}=\"");
        let start = tag.find(&key)? + key.len();
        Some(tag[start..].split('"').next()?.to_string())
    };
    dom.match_indices("<svg")
        .filter_map(|(at, _)| {
            let tag = &dom[at..at + dom[at..].find('>')?];
            if attr(tag, "class")?.split(' ').all(|c| c != "chart") {
                return None;
            }
            let points = attr(tag, "data-points")?.parse().ok()?;
            Some((attr(tag, "data-chart")?, points))
        })
        .collect()
}

/// The batches the watermark chart can draw: those with a newest event time and a
/// watermark past its start (the epoch, which the page leaves out as Spark's does).
fn batches_with_watermark_gap(progress: &[StreamingQueryProgress]) -> usize {
    progress
        .iter()
        .filter(|p| {
            p.event_time.contains_key("max")
                && p.event_time
                    .get("watermark")
                    .is_some_and(|w| w != "1970-01-01T00:00:00.000Z")
        })
        .count()
}

/// Checks the charts of `dom` against the progress records the page was served from.
fn assert_charts(dom: &str, progress: &[StreamingQueryProgress]) {
    let drawn = charts_drawn(dom);
    let names: Vec<&str> = drawn.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, CHARTS, "the charts on the page");
    let batches = progress.len();
    assert!(batches >= 3, "only {batches} batches ran");
    for (chart, points) in &drawn {
        let expected = match chart.as_str() {
            "watermark" => batches_with_watermark_gap(progress),
            _ => batches,
        };
        assert!(*points >= 3, "chart {chart}: {points} points, fewer than 3");
        assert_eq!(*points, expected, "chart {chart} of {batches} batches");
    }
    assert!(
        dom.contains(NAME_IN_DOM),
        "the query's name is not on the page"
    );
    assert!(
        !dom.contains(&NAME.replace('&', "&amp;")),
        "the query's name went into the page as markup"
    );
}

/// `<target>/monitoring/<file>`, the folder made.
fn screenshot_path(file: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("monitoring");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(file)
}

/// Loads `url` once for its DOM and once for a screenshot saved as `file`; returns the
/// DOM.
fn load_and_screenshot(chromium: &Path, url: &str, file: &str) -> String {
    let (dom, took) = browse(chromium, url, &["--dump-dom"]);
    let png = screenshot_path(file);
    let _ = std::fs::remove_file(&png);
    browse(
        chromium,
        url,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1400,2200",
        ],
    );
    let bytes =
        std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot {}: {e}", png.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        png.display()
    );
    eprintln!(
        "{url}: DOM in {} ms, charts {:?}, screenshot {} ({} KB)",
        took.as_millis(),
        charts_drawn(&dom),
        png.display(),
        bytes.len() / 1024
    );
    dom
}

#[test]
fn the_live_page_charts_every_batch_of_a_running_query() {
    let Some(chromium) = chromium("the_live_page_charts_every_batch_of_a_running_query") else {
        return;
    };
    let streams = StreamingQueryManager::new();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = run_query(&streams, checkpoint.path(), "monitoring_page_live");
    let progress = query.recent_progress();
    assert!(progress.iter().all(|p| !p.state_operators.is_empty()));
    let address = streams.ui_address().expect("the query serves its page");
    let dom = load_and_screenshot(&chromium, &format!("http://{address}/"), "live.png");
    assert_charts(&dom, &progress);
    assert!(
        dom.contains(r#"data-state="active""#),
        "the page does not say the query is active"
    );
    runtime().block_on(query.stop());
}

#[test]
fn the_page_served_from_a_stopped_querys_checkpoint_charts_the_same_batches() {
    let Some(chromium) =
        chromium("the_page_served_from_a_stopped_querys_checkpoint_charts_the_same_batches")
    else {
        return;
    };
    let streams = StreamingQueryManager::new();
    let checkpoint = tempfile::tempdir().unwrap();
    let query = run_query(&streams, checkpoint.path(), "monitoring_page_checkpoint");
    runtime().block_on(query.stop());
    let progress = query.recent_progress();
    drop(streams); // its live page goes away with it
    let server =
        UiServer::checkpoints(vec![checkpoint.path().to_path_buf()], "127.0.0.1:0").unwrap();
    let url = format!("http://{}/", server.address());
    let dom = load_and_screenshot(&chromium, &url, "checkpoint.png");
    assert_charts(&dom, &progress);
    assert!(
        dom.contains(r#"data-state="stopped""#),
        "the page does not say the query is stopped"
    );
    assert!(
        !dom.contains(r#"data-state="active""#),
        "a query from a checkpoint shown as active"
    );
    assert!(
        dom.contains("from checkpoint"),
        "the page does not say where it is served from"
    );
    server.stop();
}
