// `flat_map`'s function returns something to iterate over: rows of the schema.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Line { text: string }
        schema Word { word: string }
        read(json, path = "landing/", schema = Line)
            .flat_map(Word, |l| Word { word: l.text })
            .write(console)
    };
}
