//! Compile-time checks, for `stream!` expansions, that a connector's cargo feature is
//! on: `write(delta, ..)` in a crate whose stream-core lacks `delta` fails to build with
//! a message naming the feature, instead of an unresolved path. Each macro is defined
//! twice, for the feature on and off.

/// `()` when stream-core has the `parquet` feature, else a `compile_error!`.
#[cfg(feature = "parquet")]
#[doc(hidden)]
#[macro_export]
macro_rules! __feature_parquet {
    () => {
        ()
    };
}
#[cfg(not(feature = "parquet"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __feature_parquet {
    () => {
        ::core::compile_error!(
            "the parquet format needs the `parquet` feature of stream-core: add it to the dependency's `features`"
        )
    };
}

/// `()` when stream-core has the `json` feature, else a `compile_error!`.
#[cfg(feature = "json")]
#[doc(hidden)]
#[macro_export]
macro_rules! __feature_json {
    () => {
        ()
    };
}
#[cfg(not(feature = "json"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __feature_json {
    () => {
        ::core::compile_error!(
            "the json format needs the `json` feature of stream-core: add it to the dependency's `features`"
        )
    };
}

/// `()` when stream-core has the `csv` feature, else a `compile_error!`.
#[cfg(feature = "csv")]
#[doc(hidden)]
#[macro_export]
macro_rules! __feature_csv {
    () => {
        ()
    };
}
#[cfg(not(feature = "csv"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __feature_csv {
    () => {
        ::core::compile_error!(
            "the csv format needs the `csv` feature of stream-core: add it to the dependency's `features`"
        )
    };
}

/// `DeltaSink::new(path)` when stream-core has the `delta` feature, else a
/// `compile_error!` (the type does not exist then).
#[cfg(feature = "delta")]
#[doc(hidden)]
#[macro_export]
macro_rules! __delta_sink {
    ($path:expr) => {
        $crate::DeltaSink::new($path)
    };
}
#[cfg(not(feature = "delta"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __delta_sink {
    ($path:expr) => {
        ::core::compile_error!(
            "write(delta, ..) needs the `delta` feature of stream-core: add it to the dependency's `features`"
        )
    };
}

/// The Kafka source builder expression `$source` (`KafkaSource::new(..)` and its calls,
/// which name items of `stream_core::kafka`) when stream-core has the `kafka` feature,
/// else a `compile_error!`: the module does not exist then, so the expression is
/// dropped unread, with no unresolved paths after the error.
#[cfg(feature = "kafka")]
#[doc(hidden)]
#[macro_export]
macro_rules! __kafka_source {
    ($source:expr) => {
        $source
    };
}
#[cfg(not(feature = "kafka"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __kafka_source {
    ($source:expr) => {
        ::core::compile_error!(
            "read(kafka, ..) needs the `kafka` feature of stream-core: add it to the dependency's `features`"
        )
    };
}

/// The Kafka sink builder expression `$sink` (`KafkaSink::new(..)` and its calls) when
/// stream-core has the `kafka` feature, else a `compile_error!` (as `__kafka_source`).
#[cfg(feature = "kafka")]
#[doc(hidden)]
#[macro_export]
macro_rules! __kafka_sink {
    ($sink:expr) => {
        $sink
    };
}
#[cfg(not(feature = "kafka"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __kafka_sink {
    ($sink:expr) => {
        ::core::compile_error!(
            "write(kafka, ..) needs the `kafka` feature of stream-core: add it to the dependency's `features`"
        )
    };
}
