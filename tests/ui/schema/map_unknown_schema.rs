// `map` names the schema of the rows it returns; it must be a schema of the block.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Click { user: string, amount: f64 }
        schema Labeled { user: string, label: string }
        read(json, path = "landing/", schema = Click)
            .map(Labled, |c| c)
            .write(console)
    };
}
