// A misspelt output mode: a did-you-mean on it, and no second error from checking the
// aggregation against the default mode (append, which would need a watermark).
use stream_core::stream;

fn main() {
    let _misspelt = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .group_by(user)
            .agg(sum(amount) as total)
            .write(console)
            .output_mode(complet)
    };
    let _spark_case = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .group_by(user)
            .agg(sum(amount) as total)
            .write(console)
            .output_mode(Update)
    };
}
