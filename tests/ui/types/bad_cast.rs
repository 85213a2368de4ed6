use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Order { user: string, day: date }
        read(json, path = "landing/", schema = Order)
            .select(user, day as bool as flag)
            .write(console)
    };
}
