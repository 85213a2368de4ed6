// A row is a struct with one field per column: a misspelt column is a missing field.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Click { user: string, amount: f64 }
        schema Doubled { user: string, doubled: f64 }
        read(json, path = "landing/", schema = Click)
            .map(Doubled, |c| Doubled { user: c.user, doubled: c.amout * 2.0 })
            .write(console)
    };
}
