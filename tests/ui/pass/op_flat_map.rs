// Operator `flat_map`: a closure returning any iterator of rows of a block schema.
use stream_core::stream;

fn main() {
    let _query: stream_core::QueryBuilder<_> = stream! {
        schema Line { text: Option<string> }
        schema Word { word: string }
        read(json, path = "landing/", schema = Line)
            .flat_map(Word, |l| {
                l.text
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(|w| Word { word: w.to_lowercase() })
                    .collect::<Vec<_>>()
            })
            .write(console)
    };
}
