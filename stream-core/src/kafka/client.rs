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

/// A source error.
pub(crate) fn source_error(what: &str, message: impl std::fmt::Display) -> StreamError {
    StreamError::Source {
        source_name: format!("KafkaSource[{what}]"),
        message: message.to_string(),
    }
}
