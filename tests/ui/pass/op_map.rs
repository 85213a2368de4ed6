// Operator `map`: a closure over the stream's row, returning a row of a block schema;
// a fn over a derived struct; the result read back as the generated row.
use stream_core::stream;

#[derive(stream_core::Schema)]
struct Click {
    user: String,
    amount: Option<f64>,
}

#[derive(stream_core::Schema)]
struct Label {
    text: String,
}

fn label(click: Click) -> Label {
    Label { text: format!("{}:{:?}", click.user, click.amount) }
}

fn main() {
    let _closure = stream! {
        schema Click { user: string, amount: Option<f64> }
        schema Doubled { user: string, doubled: f64 }
        read(json, path = "landing/", schema = Click)
            .map(Doubled, |c| Doubled { user: c.user, doubled: c.amount.unwrap_or(0.0) * 2.0 })
            .filter(doubled > 10.0)
            .write(memory, name = "ui_map")
    };
    let _fn = stream! {
        schema Click = Click;
        schema Label = Label;
        read(json, path = "landing/", schema = Click)
            .map(Label, label)
            .write(console)
    };
    let _typed = || -> stream_core::Result<()> {
        let query = _closure.start()?;
        let rows = query.rows()?;
        let _: Option<(&String, f64)> = rows.first().map(|r| (&r.user, r.doubled));
        Ok(())
    };
}
