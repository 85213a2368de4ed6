// `hour(..)` and `window(..)` of a number: the help converts the column the block names
// (as milliseconds since the epoch) in a call that compiles (`ui/pass/help_lines_applied.rs`).
use stream_core::stream;

fn main() {
    let _hour = stream! {
        schema Reading { sensor: string, read_at: f64 }
        read(json, path = "landing/", schema = Reading)
            .select(sensor, hour(read_at) as h)
            .write(console)
    };
    let _window = stream! {
        schema Reading { sensor: string, read_at: f64 }
        read(json, path = "landing/", schema = Reading)
            .group_by(window(read_at, "1 minute"), sensor)
            .agg(count() as n)
            .write(console)
            .output_mode(update)
    };
    let _minute_of_an_expression = stream! {
        schema Reading { sensor: string, read_at: f64 }
        read(json, path = "landing/", schema = Reading)
            .select(sensor, minute(read_at * 1000.0) as m)
            .write(console)
    };
}
