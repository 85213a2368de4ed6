// Each operator sees the columns of the one before it: `country` is gone after the
// `select`.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64, country: string }
        read(json, path = "landing/", schema = Order)
            .select(user, amount)
            .filter(country == "DE")
            .write(console)
    };
}
