// Bytes to text, as Kafka values are read: `x as string` or Spark's `cast(x as string)`
// (null where the bytes are not UTF-8, so the result is nullable).
use stream_core::stream;

fn main() {
    let _query: stream_core::QueryBuilder<_> = stream! {
        schema Blob { id: i64, payload: binary, key: Option<binary> }
        read(parquet, path = "landing/", schema = Blob)
            .select(id, cast(payload as string) as text, key as string as key)
            .filter(text.is_not_null())
            .write(console)
    };
}
