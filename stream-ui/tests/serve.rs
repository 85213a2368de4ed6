//! `stream-ui <checkpoint>`: the page's JSON and `/metrics` of a query that has stopped,
//! with its error, its plan and its batches, served by the command from the checkpoint.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_array::{Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use stream_core::{
    MapPipeline, MemorySink, MemoryStream, StreamError, StreamingQuery, StreamingQueryManager,
};

fn get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response.split_once("\r\n\r\n").unwrap().1.to_string()
}

#[test]
fn a_failed_query_is_served_from_its_checkpoint_with_its_error_plan_and_batches() {
    let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    let input = MemoryStream::new(schema.clone());
    let checkpoint = tempfile::tempdir().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let query = StreamingQuery::builder()
        .query_name("served_later")
        .manager(&StreamingQueryManager::new())
        .source(input.clone())
        .pipeline(MapPipeline::new(
            "third_fails",
            schema.clone(),
            schema.clone(),
            move |b| {
                if seen.fetch_add(1, Ordering::SeqCst) == 2 {
                    return Err(StreamError::InvalidQuery("no such table `orders`".into()));
                }
                Ok(b.clone())
            },
        ))
        .sink(MemorySink::new("stream_ui_served_later"))
        .checkpoint_location(checkpoint.path())
        .start()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for n in 0..3i64 {
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int64Array::from(vec![n; n as usize + 1]))],
        )
        .unwrap();
        input.add_batch(batch).unwrap();
        let _ = rt.block_on(query.process_all_available());
    }
    assert!(query.exception().is_some());
    let progress = query.recent_progress();
    assert_eq!(progress.len(), 2);

    let mut child = Command::new(env!("CARGO_BIN_EXE_stream-ui"))
        .arg(checkpoint.path())
        .args(["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let json: serde_json::Value = serde_json::from_str(&get(&addr, "/api/queries")).unwrap();
    let metrics = get(&addr, "/metrics");
    child.kill().unwrap();
    let _ = child.wait();

    assert_eq!(json["served"], "checkpoint");
    let view = &json["queries"][0];
    assert_eq!(view["id"], query.id());
    assert_eq!(view["name"], "served_later");
    assert_eq!(view["active"], false);
    let exception = view["exception"].as_str().unwrap();
    assert!(exception.contains("no such table `orders`"), "{exception}");
    assert_eq!(view["plan"], query.explain());
    assert!(
        query.explain().contains("third_fails"),
        "{}",
        query.explain()
    );
    let records: Vec<stream_core::StreamingQueryProgress> =
        serde_json::from_value(view["progress"].clone()).unwrap();
    assert_eq!(records, progress);
    assert_eq!(view["totals"]["inputRows"], 1 + 2);
    let rows = format!(
        r#"stream_input_rows_total{{query="served_later",query_id="{}"}} 3"#,
        query.id()
    );
    assert!(metrics.lines().any(|l| l == rows), "{metrics}");
    assert!(
        metrics.contains("stream_query_active{") && metrics.contains("} 0.0"),
        "{metrics}"
    );
}
