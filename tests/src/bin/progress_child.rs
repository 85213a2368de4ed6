//! A bounded query for the progress bar's terminal test: `Trigger::AvailableNow` over
//! the text files of a folder, one file per batch; prints the rows it read on stdout.
//!
//! Usage: `progress_child <landing> <checkpoint>`

use stream_core::{
    FileSource, MapPipeline, MemorySink, OutputMode, Source, StreamingQuery, Trigger,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [landing, checkpoint] = args.as_slice() else {
        eprintln!("usage: progress_child <landing> <checkpoint>");
        std::process::exit(2);
    };
    let source = FileSource::text(landing).max_files_per_trigger(1);
    let schema = source.schema();
    let query = StreamingQuery::builder()
        .source(source)
        .pipeline(MapPipeline::identity(schema))
        .sink(MemorySink::new("progress_child"))
        .output_mode(OutputMode::Append)
        .trigger(Trigger::AvailableNow)
        .checkpoint_location(checkpoint)
        .start()
        .expect("query starts");
    tests::runtime()
        .block_on(query.await_termination())
        .expect("query succeeds");
    let rows: u64 = query
        .recent_progress()
        .iter()
        .map(|p| p.num_input_rows)
        .sum();
    println!("rows read: {rows}");
}
