// `x.f()` is the function `f(x)`: a misspelt method is an unknown function.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: Option<f64> }
        read(json, path = "landing/", schema = Order)
            .filter(amount.is_nul())
            .write(console)
    };
}
