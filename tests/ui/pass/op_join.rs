// Operator `join`: a stream–static join, inner and left outer, on one key or several.
use stream_core::{StaticTable, stream};

fn main() {
    let regions = StaticTable::default();
    let _inner: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, country: Option<string>, amount: f64 }
        schema Region { country: string, region: string }
        read(json, path = "landing/", schema = Order)
            .join({regions.clone()}, schema = Region, on = country)
            .select(user, region, amount)
            .write(console)
    };
    let _left: stream_core::QueryBuilder<_> = stream! {
        schema Order { user: string, country: string, amount: f64 }
        schema Price { user: string, country: string, discount: f64 }
        read(json, path = "landing/", schema = Order)
            .join({regions}, schema = Price, on = [user, country], how = left)
            .with_column(net, amount * (1.0 - coalesce(discount, 0.0)))
            .write(console)
    };
}
