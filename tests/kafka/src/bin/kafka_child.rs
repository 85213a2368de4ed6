//! A query process for the Kafka sink's crash tests: streams topic `<in>` into topic
//! `<out>`, at most 4 offsets per batch, and dies (`abort`, no clean-up) where the
//! parent asked for a fault.
//!
//! Usage: `kafka_child <servers> <in> <out> <checkpoint> <at_least_once|exactly_once>
//! <fault point|none> <batch>`; fault points are `during-sink-write`,
//! `after-sink-write`, `before-commit`. Exits 0 at the end of the topic, 1 when the
//! query fails otherwise, 2 on bad arguments.

use stream_core::kafka::{KafkaSink, KafkaSource, StartingOffsets};
use stream_core::{
    FaultPoint, MapPipeline, OutputMode, Source, StreamError, StreamingQuery, Trigger,
};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = || -> ! {
        eprintln!(
            "usage: kafka_child <servers> <in> <out> <checkpoint> <at_least_once|exactly_once> <fault point|none> <batch>"
        );
        std::process::exit(2)
    };
    if args.len() != 8 {
        usage();
    }
    let (servers, input, output, checkpoint) = (&args[1], &args[2], &args[3], &args[4]);
    let exactly_once = match args[5].as_str() {
        "at_least_once" => false,
        "exactly_once" => true,
        _ => usage(),
    };
    let fault = match args[6].as_str() {
        "none" => None,
        "during-sink-write" => Some(FaultPoint::DuringSinkWrite),
        "after-sink-write" => Some(FaultPoint::AfterSinkWrite),
        "before-commit" => Some(FaultPoint::BeforeCommit),
        _ => usage(),
    };
    let batch: u64 = args[7].parse().unwrap_or_else(|_| usage());
    let source = KafkaSource::new(servers.as_str())
        .subscribe([input.as_str()])
        .starting_offsets(StartingOffsets::Earliest)
        .max_offsets_per_trigger(4);
    let schema = source.schema();
    let mut builder = StreamingQuery::builder()
        .source(source)
        .pipeline(MapPipeline::identity(schema))
        .sink(
            KafkaSink::new(servers.as_str())
                .topic(output.as_str())
                .exactly_once(exactly_once),
        )
        .output_mode(OutputMode::Append)
        .trigger(Trigger::AvailableNow)
        .checkpoint_location(checkpoint.as_str());
    if let Some(point) = fault {
        builder = builder.inject_fault(point, batch);
    }
    let query = builder.start().unwrap_or_else(|e| {
        eprintln!("kafka_child: cannot start: {e}");
        std::process::exit(1)
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    match runtime.block_on(query.await_termination()) {
        Ok(()) => {}
        Err(e) if matches!(*e, StreamError::InjectedFault { .. }) => {
            eprintln!("kafka_child: dying at {e}");
            std::process::abort();
        }
        Err(e) => {
            eprintln!("kafka_child: the query failed: {e}");
            std::process::exit(1);
        }
    }
}
