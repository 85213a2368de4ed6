// The generated code raises no lint of its own on the user's names: an inline schema
// used by a memory sink or by `map` (whose rows are structs the user's code names) gets no
// `unreachable_pub`, whose suggested fix broke the block.
#![deny(unreachable_pub)]
use stream_core::stream;

pub mod pipelines {
    use stream_core::stream;

    pub fn memory_sink() {
        let _query = stream! {
            schema Order { user: string, amount: f64 }
            read(json, path = "landing/", schema = Order)
                .filter(amount > 10.0)
                .write(memory, name = "big_orders")
        };
    }

    pub fn mapped() {
        let _query = stream! {
            schema Order { user: string, amount: f64 }
            schema Doubled { user: string, doubled: f64 }
            read(json, path = "landing/", schema = Order)
                .map(Doubled, |o| Doubled { user: o.user, doubled: o.amount * 2.0 })
                .write(memory, name = "doubled")
        };
    }
}

fn main() {
    pipelines::memory_sink();
    pipelines::mapped();
    let _top = stream! {
        schema Order { user: string, amount: f64 }
        read(json, path = "landing/", schema = Order)
            .write(memory, name = "orders")
    };
}
