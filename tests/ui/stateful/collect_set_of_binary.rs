// `collect_set` takes no `binary` values (a list of binary is not a column type here).
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Event { ts: timestamp_ms, user: string, payload: binary }
        read(json, path = "landing/", schema = Event)
            .group_by(user)
            .agg(collect_set(payload) as payloads)
            .write(console)
            .output_mode(complete)
    };
}
