//! A read-only view of the fleet's stream, for `triage ui --nats`: two
//! ordered consumers (ephemeral, unacknowledged, made again by the client
//! after a gap or a lost server), one on `<prefix>.*.events` from the last
//! [`RECENT_MESSAGES`] of the stream, one on `<prefix>.*.alerts` from the
//! stream's first message (alerts are few; the stream's retention bounds
//! them). Nothing is written: the collector's durable consumer, the index
//! and the journal are untouched.
//!
//! Synchronous to its caller: the tokio runtime stays inside this value.
//! Must not: acknowledge, create or change a stream or a durable consumer,
//! print a credential.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use async_nats::jetstream::{
    self,
    consumer::{DeliverPolicy, pull},
};
use futures_util::StreamExt;

use super::{
    FleetError, Settings,
    wire::{AlertMsg, EventMsg},
};

/// Events delivered from before the view started: the last this many
/// messages of the stream (those of them that are events), enough for a
/// first screen, few enough to arrive in a moment.
pub const RECENT_MESSAGES: u64 = 2_000;
/// Messages handed over at most per batch.
const BATCH: usize = 512;

/// One message of the stream, as the view delivers it, with its stream
/// sequence.
#[derive(Debug, Clone)]
pub enum Tapped {
    /// An event an agent read.
    Event(u64, Box<EventMsg>),
    /// An alert or a clear an agent's engine decided.
    Alert(u64, Box<AlertMsg>),
    /// A message that is neither (its stream sequence and why).
    Unreadable(u64, String),
}

/// The view: a connection and its two consumers.
pub struct Tap {
    rt: tokio::runtime::Runtime,
    events: pull::Ordered,
    alerts: pull::Ordered,
}

impl Tap {
    /// Connects (waiting for a server until `stop` is set) and starts the
    /// two consumers on the stream of `settings`.
    pub fn open(settings: &Settings, stop: &AtomicBool) -> Result<Tap, FleetError> {
        let rt = super::runtime()?;
        let name = settings.stream_name();
        let opened = rt.block_on(async {
            let client = until_stopped(stop, super::connect(settings, "triage ui")).await??;
            let js = jetstream::new(client);
            let stream = until_stopped(stop, js.get_stream(&name))
                .await?
                .map_err(|err| {
                    FleetError::Nats(format!(
                        "stream {name}: {err} (`triage collect --init` creates it)"
                    ))
                })?;
            let last = stream.cached_info().state.last_sequence;
            let consumer = |filter: String, deliver_policy: DeliverPolicy| {
                let stream = stream.clone();
                async move {
                    let consumer = stream
                        .create_consumer(pull::OrderedConfig {
                            description: Some("triage ui: read-only view".to_owned()),
                            filter_subject: filter.clone(),
                            deliver_policy,
                            ..pull::OrderedConfig::default()
                        })
                        .await
                        .map_err(|err| FleetError::Nats(format!("consumer on {filter}: {err}")))?;
                    consumer
                        .messages()
                        .await
                        .map_err(|err| FleetError::Nats(format!("consumer on {filter}: {err}")))
                }
            };
            let events = consumer(
                format!("{}.*.events", settings.prefix),
                match last > RECENT_MESSAGES {
                    true => DeliverPolicy::ByStartSequence {
                        start_sequence: last - RECENT_MESSAGES + 1,
                    },
                    false => DeliverPolicy::All,
                },
            )
            .await?;
            let alerts =
                consumer(format!("{}.*.alerts", settings.prefix), DeliverPolicy::All).await?;
            Ok::<_, FleetError>((events, alerts))
        })?;
        let (events, alerts) = opened;
        Ok(Tap { rt, events, alerts })
    }

    /// The messages that come within `wait` (at most a batch), in the
    /// order each consumer delivers them. An error is the consumers'
    /// (the client goes on reconnecting; call again).
    pub fn next_batch(&mut self, wait: Duration) -> Result<Vec<Tapped>, FleetError> {
        let Tap {
            rt, events, alerts, ..
        } = self;
        rt.block_on(async {
            let mut out = Vec::new();
            let deadline = tokio::time::sleep(wait);
            tokio::pin!(deadline);
            loop {
                let next = tokio::select! {
                    message = events.next() => message,
                    message = alerts.next() => message,
                    () = &mut deadline => return Ok(out),
                };
                match next {
                    Some(Ok(message)) => {
                        out.push(tapped(&message));
                        if out.len() >= BATCH {
                            return Ok(out);
                        }
                    }
                    Some(Err(err)) if out.is_empty() => {
                        return Err(FleetError::Nats(err.to_string()));
                    }
                    Some(Err(_)) => return Ok(out),
                    None => return Err(FleetError::Nats("the consumer ended".to_owned())),
                }
            }
        })
    }
}

/// What a message of the stream holds.
fn tapped(message: &jetstream::Message) -> Tapped {
    let seq = message.info().map_or(0, |info| info.stream_sequence);
    let subject = message.subject.as_str();
    let unreadable = |err: serde_json::Error| Tapped::Unreadable(seq, err.to_string());
    if subject.ends_with(".events") {
        serde_json::from_slice::<EventMsg>(&message.payload)
            .map_or_else(unreadable, |m| Tapped::Event(seq, Box::new(m)))
    } else {
        serde_json::from_slice::<AlertMsg>(&message.payload)
            .map_or_else(unreadable, |m| Tapped::Alert(seq, Box::new(m)))
    }
}

/// `work`, or an error once `stop` is set (checked every 100 ms).
async fn until_stopped<T>(
    stop: &AtomicBool,
    work: impl Future<Output = T>,
) -> Result<T, FleetError> {
    tokio::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return Ok(done),
            () = tokio::time::sleep(Duration::from_millis(100)) => {
                if stop.load(Ordering::SeqCst) {
                    return Err(FleetError::Nats("stopped".to_owned()));
                }
            }
        }
    }
}
