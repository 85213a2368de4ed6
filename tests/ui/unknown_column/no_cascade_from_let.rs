// A failed filter does not stop the checks of the operators after it, and a `let`
// stream with errors is not reported again where it is used.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        let big = read(json, path = "landing/", schema = Order)
            .filter(amout > 10.0)
            .filter(usr == "a");
        big.select(user, amount)
            .write(console)
    };
}
