//! Client configuration shared by the source and the sink, and rdkafka errors turned
//! into the engine's.

use std::time::Duration;

use rdkafka::ClientConfig;

use crate::StreamError;

/// How long a metadata or watermark request may take before the source gives up.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A client configuration: the brokers, then the user's own librdkafka settings (which
/// win), then `fixed` (what the connector needs to keep its promises, which the user
/// cannot override).
pub(crate) fn config(
    servers: &str,
    user: &[(String, String)],
    fixed: &[(&str, &str)],
) -> Result<ClientConfig, StreamError> {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", servers);
    for (k, v) in user {
        if let Some((name, _)) = fixed.iter().find(|(name, _)| *name == k.as_str()) {
            return Err(StreamError::InvalidOption {
                name: k.clone(),
                message: format!(
                    "`{name}` is set by the Kafka connector itself and cannot be changed"
                ),
            });
        }
        config.set(k, v);
    }
    for (k, v) in fixed {
        config.set(*k, *v);
    }
    Ok(config)
}

/// A client context that keeps what librdkafka last reported as an error of the client
/// itself (a failed authentication, a TLS handshake that failed, a broker it cannot
/// reach): a request that then times out says only that it timed out, and this says
/// why, with the broker's address.
#[derive(Default)]
pub(crate) struct ClientErrors {
    last: std::sync::Mutex<Option<String>>,
}

impl ClientErrors {
    /// `; the client reported: <reason>` if librdkafka reported an error, else nothing.
    pub(crate) fn said(&self) -> String {
        match &*self.last.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(reason) => format!("; the client reported: {reason}"),
            None => String::new(),
        }
    }

    fn keep(&self, reason: &str) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason.to_string());
    }
}

impl rdkafka::ClientContext for ClientErrors {
    /// librdkafka's log, to `tracing`; an error or a warning is also kept: a failed
    /// authentication or TLS handshake is logged from the client's own threads (with the
    /// broker's address) while the request that waits on it only times out.
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        use rdkafka::config::RDKafkaLogLevel as Level;
        match level {
            Level::Emerg | Level::Alert | Level::Critical | Level::Error => {
                tracing::error!(target: "librdkafka", "{fac} {message}");
                self.keep(message);
            }
            Level::Warning => {
                tracing::warn!(target: "librdkafka", "{fac} {message}");
                self.keep(message);
            }
            Level::Notice | Level::Info => tracing::info!(target: "librdkafka", "{fac} {message}"),
            Level::Debug => tracing::debug!(target: "librdkafka", "{fac} {message}"),
        }
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        tracing::warn!(%error, "Kafka client: {reason}");
        self.keep(reason);
    }
}

impl rdkafka::consumer::ConsumerContext for ClientErrors {}

/// The consumers of the source and of the sink's transactional group.
pub(crate) type KafkaConsumer = rdkafka::consumer::BaseConsumer<ClientErrors>;

/// [`ClientErrors::said`] of `consumer`, once the log and error events librdkafka
/// queued for it are served: they reach the context only when the consumer is polled,
/// which a consumer that only asks for metadata or offsets never is.
pub(crate) fn consumer_said(consumer: &KafkaConsumer) -> String {
    for _ in 0..1000 {
        if consumer.poll(Duration::ZERO).is_none() {
            break;
        }
    }
    rdkafka::consumer::Consumer::context(consumer).said()
}

/// A librdkafka setting's name as the user wrote it, without Spark's `kafka.` prefix
/// (`kafka.security.protocol` is `security.protocol`).
pub(crate) fn setting_name(key: String) -> String {
    match key.strip_prefix("kafka.") {
        Some(name) => name.to_string(),
        None => key,
    }
}

/// A source error.
pub(crate) fn source_error(what: &str, message: impl std::fmt::Display) -> StreamError {
    StreamError::Source {
        source_name: format!("KafkaSource[{what}]"),
        message: message.to_string(),
    }
}
