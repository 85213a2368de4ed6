// A limit of one input of a union is not supported yet: limit the union.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, amount: f64 }
        let web = read(json, path = "web/", schema = Order).limit(10);
        read(json, path = "shop/", schema = Order)
            .union(web)
            .write(console)
    };
}
