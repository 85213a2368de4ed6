// Bad values of the landing-zone and CSV options, each on its token.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        read(
            csv,
            path = "landing/",
            schema = Order,
            mode = lenient,
            delimiter = "||",
            max_file_age = "a while",
            latest_first = 1,
            clean_source = shred,
        )
            .write(console)
    };
}
