// `max_by` takes the value and the ordering: one argument is an error on the name.
use stream_core::stream;

fn main() {
    let _query = stream! {
        schema Bid { ts: timestamp_ms, auction: i64, bidder: i64, price: i64 }
        read(json, path = "landing/", schema = Bid)
            .group_by(auction)
            .agg(max_by(price) as top, min_by(bidder, price, ts) as lowest_bidder)
            .write(console)
            .output_mode(complete)
    };
}
