use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { first: string, last: string }
        read(json, path = "landing/", schema = Order)
            .with_column(name, first + last)
            .write(console)
    };
}
