// Every error of the block is reported, not only the first.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        let big = read(json, path = "landing/", schema = Order).filter(amout > 10.0);
        read(json, path = "landing/", schema = Order)
            .select(usr, amount, price)
            .write(console)
    };
}
