// The function of `map` is checked by rustc against the row types, on its own tokens:
// it must return the schema's struct.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Click { user: string, amount: f64 }
        schema Doubled { user: string, doubled: f64 }
        read(json, path = "landing/", schema = Click)
            .map(Doubled, |c| c.amount * 2.0)
            .write(console)
    };
}
