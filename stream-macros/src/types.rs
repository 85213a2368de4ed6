//! The DSL's own types, and how each maps to arrow and to Rust.

use proc_macro2::TokenStream;
use quote::quote;

/// A column type of the DSL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum DslType {
    Bool,
    I32,
    I64,
    F32,
    F64,
    String,
    Binary,
    Date,
    TimestampMs,
    TimestampUs,
    /// A list of non-null items of a scalar type (the result of `collect_list` and
    /// `collect_set`); no schema declares one, and expressions do not take one.
    List(&'static DslType),
    /// The Kafka source's `headers` column: a list of `key: string` / `value: binary?`
    /// structs (Spark's `array<struct<key: string, value: binary>>`). Opaque: no schema
    /// declares one and expressions do not take one; it is passed on as it is (by
    /// name in `select`, through `drop`, `with_column`, filters) to a sink.
    Headers,
}

/// A type with its nullability.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ColType {
    pub(crate) ty: DslType,
    pub(crate) nullable: bool,
}

impl DslType {
    pub(crate) const ALL: [DslType; 10] = [
        DslType::Bool,
        DslType::I32,
        DslType::I64,
        DslType::F32,
        DslType::F64,
        DslType::String,
        DslType::Binary,
        DslType::Date,
        DslType::TimestampMs,
        DslType::TimestampUs,
    ];

    /// The list of items of `item`, for the item types a list may have (every scalar
    /// type but `binary`).
    pub(crate) fn list_of(item: DslType) -> Option<DslType> {
        const ITEMS: [DslType; 9] = [
            DslType::Bool,
            DslType::I32,
            DslType::I64,
            DslType::F32,
            DslType::F64,
            DslType::String,
            DslType::Date,
            DslType::TimestampMs,
            DslType::TimestampUs,
        ];
        let index = ITEMS.iter().position(|t| *t == item)?;
        Some(DslType::List(&ITEMS[index]))
    }

    /// The name written in a schema (and in errors).
    pub(crate) fn name(self) -> &'static str {
        match self {
            DslType::List(item) => match item {
                DslType::Bool => "list<bool>",
                DslType::I32 => "list<i32>",
                DslType::I64 => "list<i64>",
                DslType::F32 => "list<f32>",
                DslType::F64 => "list<f64>",
                DslType::String => "list<string>",
                DslType::Date => "list<date>",
                DslType::TimestampMs => "list<timestamp_ms>",
                DslType::TimestampUs => "list<timestamp_us>",
                _ => "list",
            },
            DslType::Headers => "kafka_headers",
            DslType::Bool => "bool",
            DslType::I32 => "i32",
            DslType::I64 => "i64",
            DslType::F32 => "f32",
            DslType::F64 => "f64",
            DslType::String => "string",
            DslType::Binary => "binary",
            DslType::Date => "date",
            DslType::TimestampMs => "timestamp_ms",
            DslType::TimestampUs => "timestamp_us",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<DslType> {
        DslType::ALL.into_iter().find(|t| t.name() == name)
    }

    pub(crate) fn is_numeric(self) -> bool {
        matches!(
            self,
            DslType::I32 | DslType::I64 | DslType::F32 | DslType::F64
        )
    }

    /// A type that expressions do not take: a list, or Kafka headers. Such a column is
    /// passed on as it is.
    pub(crate) fn is_opaque(self) -> bool {
        matches!(self, DslType::List(_) | DslType::Headers)
    }

    pub(crate) fn is_integer(self) -> bool {
        matches!(self, DslType::I32 | DslType::I64)
    }

    /// Spark's numeric widening: the type both sides of an arithmetic or comparison are
    /// brought to.
    pub(crate) fn common_numeric(a: DslType, b: DslType) -> Option<DslType> {
        if !a.is_numeric() || !b.is_numeric() {
            return None;
        }
        let rank = |t: DslType| match t {
            DslType::I32 => 0,
            DslType::I64 => 1,
            DslType::F32 => 2,
            _ => 3,
        };
        // i64 with f32 widens to f64, as Spark does (float cannot hold every long)
        Some(match (a, b) {
            (DslType::I64, DslType::F32) | (DslType::F32, DslType::I64) => DslType::F64,
            _ if rank(a) >= rank(b) => a,
            _ => b,
        })
    }

    /// The type two values are brought to where Spark widens them (a comparison, a
    /// union, `coalesce`, `when`): the wider number, or Spark's one timestamp type.
    pub(crate) fn common(a: DslType, b: DslType) -> Option<DslType> {
        DslType::common_numeric(a, b).or_else(|| DslType::common_time(a, b))
    }

    /// Spark's one timestamp type: a `timestamp_ms` beside a `timestamp_us` is brought
    /// to `timestamp_us` (milliseconds times 1000, exact), and a `date` beside a
    /// timestamp to that timestamp (its midnight, as Spark casts a date beside a
    /// timestamp); the type both sides of a comparison, and the values of `coalesce` and
    /// `when`, are brought to.
    pub(crate) fn common_time(a: DslType, b: DslType) -> Option<DslType> {
        use DslType::{Date, TimestampMs, TimestampUs};
        match (a, b) {
            (TimestampMs, TimestampUs) | (TimestampUs, TimestampMs) => Some(TimestampUs),
            (Date, t @ (TimestampMs | TimestampUs)) | (t @ (TimestampMs | TimestampUs), Date) => {
                Some(t)
            }
            _ => None,
        }
    }

    /// The arrow primitive type marker (`Float64Type`...), for primitive types.
    pub(crate) fn arrow_primitive(self) -> TokenStream {
        let types = quote!(::stream_core::__private::arrow_array::types);
        match self {
            DslType::I32 => quote!(#types::Int32Type),
            DslType::I64 => quote!(#types::Int64Type),
            DslType::F32 => quote!(#types::Float32Type),
            DslType::F64 => quote!(#types::Float64Type),
            DslType::Date => quote!(#types::Date32Type),
            DslType::TimestampMs => quote!(#types::TimestampMillisecondType),
            DslType::TimestampUs => quote!(#types::TimestampMicrosecondType),
            DslType::Bool
            | DslType::String
            | DslType::Binary
            | DslType::List(_)
            | DslType::Headers => quote!(()),
        }
    }

    /// The Rust type of one value.
    pub(crate) fn native(self) -> TokenStream {
        match self {
            DslType::Bool => quote!(bool),
            DslType::I32 | DslType::Date => quote!(i32),
            DslType::I64 | DslType::TimestampMs | DslType::TimestampUs => quote!(i64),
            DslType::F32 => quote!(f32),
            DslType::F64 => quote!(f64),
            DslType::String => quote!(::std::string::String),
            DslType::Binary => quote!(::std::vec::Vec<u8>),
            DslType::List(item) => {
                let item = item.value();
                quote!(::std::vec::Vec<#item>)
            }
            // no row struct holds one (`map` and the memory sink refuse the column)
            DslType::Headers => quote!(
                ::std::vec::Vec<(
                    ::std::string::String,
                    ::core::option::Option<::std::vec::Vec<u8>>,
                )>
            ),
        }
    }

    /// The Rust type of one value in a row struct: `native`, but the newtypes for dates
    /// and timestamps.
    pub(crate) fn value(self) -> TokenStream {
        let types = quote!(::stream_core::types);
        match self {
            DslType::Date => quote!(#types::Date32),
            DslType::TimestampMs => quote!(#types::TimestampMs),
            DslType::TimestampUs => quote!(#types::TimestampUs),
            other => other.native(),
        }
    }

    /// The arrow array type holding a column of this type.
    pub(crate) fn array(self) -> TokenStream {
        let arrays = quote!(::stream_core::__private::arrow_array);
        match self {
            DslType::Bool => quote!(#arrays::BooleanArray),
            DslType::String => quote!(#arrays::StringArray),
            DslType::Binary => quote!(#arrays::BinaryArray),
            DslType::List(_) | DslType::Headers => quote!(#arrays::ListArray),
            other => {
                let t = other.arrow_primitive();
                quote!(#arrays::PrimitiveArray<#t>)
            }
        }
    }

    /// An expression building the arrow `DataType`.
    pub(crate) fn data_type(self) -> TokenStream {
        let dt = quote!(::stream_core::__private::arrow_schema::DataType);
        let unit = quote!(::stream_core::__private::arrow_schema::TimeUnit);
        match self {
            DslType::Bool => quote!(#dt::Boolean),
            DslType::I32 => quote!(#dt::Int32),
            DslType::I64 => quote!(#dt::Int64),
            DslType::F32 => quote!(#dt::Float32),
            DslType::F64 => quote!(#dt::Float64),
            DslType::String => quote!(#dt::Utf8),
            DslType::Binary => quote!(#dt::Binary),
            DslType::Date => quote!(#dt::Date32),
            DslType::TimestampMs => {
                quote!(#dt::Timestamp(#unit::Millisecond, ::std::option::Option::Some("UTC".into())))
            }
            DslType::TimestampUs => {
                quote!(#dt::Timestamp(#unit::Microsecond, ::std::option::Option::Some("UTC".into())))
            }
            DslType::List(item) => {
                let item = item.value();
                quote!(::stream_core::types::list_data_type::<#item>())
            }
            DslType::Headers => quote!(::stream_core::types::kafka_headers_type()),
        }
    }
}

impl std::fmt::Display for ColType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.nullable {
            write!(f, "Option<{}>", self.ty.name())
        } else {
            f.write_str(self.ty.name())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DslType::*;
    use super::*;

    #[test]
    fn numeric_promotion_follows_spark() {
        assert_eq!(DslType::common_numeric(I64, F64), Some(F64));
        assert_eq!(DslType::common_numeric(I32, I64), Some(I64));
        assert_eq!(DslType::common_numeric(I64, F32), Some(F64));
        assert_eq!(DslType::common_numeric(F32, I32), Some(F32));
        assert_eq!(DslType::common_numeric(String, I32), None);
        assert_eq!(
            DslType::common_time(TimestampMs, TimestampUs),
            Some(TimestampUs)
        );
        assert_eq!(
            DslType::common_time(TimestampUs, TimestampMs),
            Some(TimestampUs)
        );
        assert_eq!(DslType::common_time(Date, TimestampMs), Some(TimestampMs));
        assert_eq!(DslType::common_time(TimestampUs, Date), Some(TimestampUs));
        assert_eq!(DslType::common_time(TimestampMs, TimestampMs), None);
        assert_eq!(DslType::common_time(TimestampMs, I64), None);
    }

    #[test]
    fn lists_are_named_by_their_items() {
        assert_eq!(
            DslType::list_of(String).map(DslType::name),
            Some("list<string>")
        );
        assert_eq!(
            DslType::list_of(TimestampUs).map(DslType::name),
            Some("list<timestamp_us>")
        );
        assert_eq!(DslType::list_of(Binary), None);
        assert_eq!(DslType::from_name("list<string>"), None);
    }

    #[test]
    fn names_round_trip() {
        for t in DslType::ALL {
            assert_eq!(DslType::from_name(t.name()), Some(t));
        }
    }
}
