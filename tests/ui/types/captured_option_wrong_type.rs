// A captured option takes the type of its builder call (`max_files_per_trigger` a
// `usize`, `max_file_age` a `Duration`): rustc checks it on the captured tokens.
use stream_core::stream;

fn main() {
    let files: u32 = 2;
    let age = "7 days";
    let _query: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order, max_files_per_trigger = {files},
             max_file_age = {age})
            .write(console)
    };
}
