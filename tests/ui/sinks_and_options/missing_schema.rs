use stream_core::stream;

fn main() {
    let _query = stream! {
        read(json, path = "landing/")
            .write(console)
    };
}
