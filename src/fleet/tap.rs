//! A read-only view of the fleet's stream, for `triage ui --nats`: two
//! ordered consumers (ephemeral, unacknowledged, made again by the client
//! after a gap or a lost server), one on `<prefix>.*.events` from the last
//! [`RECENT_MESSAGES`] of the stream, one on `<prefix>.*.alerts` from the
//! stream's first message (alerts are few; the stream's retention bounds
//! them). Nothing is written: the collector's durable consumer, the index
//! and the journal are untouched. When the connection comes back after it
//! was lost, both are made again after the last message delivered (a
//! restarted server has forgotten ephemeral consumers), and a message
//! delivered twice is told by its sequence and skipped.
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
    client: async_nats::Client,
    stream: jetstream::stream::Stream,
    prefix: String,
    events: pull::Ordered,
    alerts: pull::Ordered,
    /// The stream sequences of the last event and alert delivered.
    last_event: u64,
    last_alert: u64,
    /// The connection was lost since the consumers were made.
    was_down: bool,
}

/// An ordered consumer of `filter` on `stream`, and its messages.
async fn ordered(
    stream: &jetstream::stream::Stream,
    filter: String,
    deliver_policy: DeliverPolicy,
) -> Result<pull::Ordered, FleetError> {
    let failed =
        |err: &dyn std::fmt::Display| FleetError::Nats(format!("consumer on {filter}: {err}"));
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            description: Some("triage ui: read-only view".to_owned()),
            filter_subject: filter.clone(),
            deliver_policy,
            ..pull::OrderedConfig::default()
        })
        .await
        .map_err(|e| failed(&e))?;
    consumer.messages().await.map_err(|e| failed(&e))
}

/// Delivery from after `last` (0: from `first`).
fn after(last: u64, first: DeliverPolicy) -> DeliverPolicy {
    match last {
        0 => first,
        last => DeliverPolicy::ByStartSequence {
            start_sequence: last + 1,
        },
    }
}

impl Tap {
    /// Connects (waiting for a server until `stop` is set) and starts the
    /// two consumers on the stream of `settings`.
    pub fn open(settings: &Settings, stop: &AtomicBool) -> Result<Tap, FleetError> {
        let rt = super::runtime()?;
        let name = settings.stream_name();
        let prefix = settings.prefix.clone();
        let (client, stream) = rt.block_on(async {
            let client = until_stopped(stop, super::connect(settings, "triage ui")).await??;
            let js = jetstream::new(client.clone());
            let stream = until_stopped(stop, js.get_stream(&name))
                .await?
                .map_err(|err| {
                    FleetError::Nats(format!(
                        "stream {name}: {err} (`triage collect --init` creates it)"
                    ))
                })?;
            Ok::<_, FleetError>((client, stream))
        })?;
        let (events, alerts) = rt.block_on(consumers(&stream, &prefix, 0, 0))?;
        Ok(Tap {
            rt,
            client,
            stream,
            prefix,
            events,
            alerts,
            last_event: 0,
            last_alert: 0,
            was_down: false,
        })
    }

    /// The messages that come within `wait` (at most a batch), in the
    /// order each consumer delivers them. An error is the consumers'
    /// (the client goes on reconnecting; call again). Once the connection
    /// is back after it was lost, the consumers are made again after what
    /// was delivered (a restarted server has forgotten them).
    pub fn next_batch(&mut self, wait: Duration) -> Result<Vec<Tapped>, FleetError> {
        let connected = self.client.connection_state() == async_nats::connection::State::Connected;
        if !connected {
            self.was_down = true;
        } else if self.was_down {
            let (events, alerts) = self.rt.block_on(consumers(
                &self.stream,
                &self.prefix,
                self.last_event,
                self.last_alert,
            ))?;
            (self.events, self.alerts, self.was_down) = (events, alerts, false);
        }
        let Tap {
            rt,
            events,
            alerts,
            last_event,
            last_alert,
            ..
        } = self;
        rt.block_on(async {
            let mut out = Vec::new();
            let deadline = tokio::time::sleep(wait);
            tokio::pin!(deadline);
            loop {
                let (next, last) = tokio::select! {
                    message = events.next() => (message, &mut *last_event),
                    message = alerts.next() => (message, &mut *last_alert),
                    () = &mut deadline => return Ok(out),
                };
                match next {
                    Some(Ok(message)) => {
                        let seq = message.info().map_or(0, |info| info.stream_sequence);
                        // A consumer made again may deliver some twice.
                        if seq <= *last {
                            continue;
                        }
                        *last = seq;
                        out.push(tapped(seq, &message));
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

/// The two consumers: events from after `last_event` (0: the last
/// [`RECENT_MESSAGES`] of the stream), alerts from after `last_alert` (0:
/// all).
async fn consumers(
    stream: &jetstream::stream::Stream,
    prefix: &str,
    last_event: u64,
    last_alert: u64,
) -> Result<(pull::Ordered, pull::Ordered), FleetError> {
    let mut stream = stream.clone();
    let name = stream.cached_info().config.name.clone();
    let newest = stream
        .info()
        .await
        .map_err(|err| FleetError::Nats(format!("stream {name}: {err}")))?
        .state
        .last_sequence;
    let recent = match newest > RECENT_MESSAGES {
        true => DeliverPolicy::ByStartSequence {
            start_sequence: newest - RECENT_MESSAGES + 1,
        },
        false => DeliverPolicy::All,
    };
    let events = ordered(
        &stream,
        format!("{prefix}.*.events"),
        after(last_event, recent),
    )
    .await?;
    let alerts = ordered(
        &stream,
        format!("{prefix}.*.alerts"),
        after(last_alert, DeliverPolicy::All),
    )
    .await?;
    Ok((events, alerts))
}

/// What a message of the stream holds.
fn tapped(seq: u64, message: &jetstream::Message) -> Tapped {
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
