//! One pass over files: read → parse → match → detect, calling back for each
//! alert and keeping per-signature counts.
//!
//! Wiring only: reading belongs to `tail`, parsing to `parse`, matching and
//! detection to `signature`, formatting to `output`. Time for thresholds and
//! suppression is the event's timestamp, else the last timestamp seen in the
//! same file (continuation lines), else the time of reading.
//!
//! [`Scanner::scan`] reads in blocks and parses only the lines the
//! signatures' prefilter says may match (the `pass` module);
//! [`Scanner::events`] and [`Scanner::process`] are the line-by-line path,
//! for callers that need every event (the demo merges files by time). Both
//! give the same alerts.

mod pass;

use std::{
    io,
    sync::{Arc, mpsc},
};

use jiff::{Timestamp, tz::TimeZone};

pub use crate::signature::engine::Tally;
use crate::{
    config::Config,
    library::Library,
    model::{Alert, Cleared, Event, RawLine},
    parse::{
        Format, Profile, ReadAs, SourceReader, reader_for, source::SAMPLE_BYTES,
        template::TemplateId,
    },
    signature::{
        Signature,
        engine::Engine,
        prefilter::{Prefilter, Scratch},
        problem::{Problem, Problems},
    },
    tail::read::{
        BLOCK, Block, Input, Piece, Sampled, open, read_blocks_from, read_lines_from, sample,
    },
};

/// What `scan --all` is handed per event: the event, the signatures it
/// matched, its template.
pub type OnEvent<'a, 'l> =
    dyn FnMut(&Event, &[&'l Signature], Option<TemplateId>) -> io::Result<()> + 'a;

/// Why reading an input stopped.
#[derive(Debug)]
pub enum ScanError {
    /// The input could not be read (the scan goes on with the next one).
    Read(io::Error),
    /// The output could not be written (the scan stops).
    Output(io::Error),
}

/// A scan in progress over any number of inputs.
pub struct Scanner<'l> {
    library: &'l Library,
    reader: EventReader<'l>,
    engine: Engine<'l>,
    /// Threads searching blocks.
    workers: usize,
    /// Block buffers for the next stream.
    spares: Vec<Vec<u8>>,
    /// A copy of the prefilter per search thread, made once.
    copies: Vec<Prefilter>,
}

/// Block buffers kept between streams, so that scanning many files does not
/// allocate and clear new ones for each.
const MAX_SPARES: usize = 16;

/// Blocks searched at once per worker: enough to keep each busy while the
/// others' results are used, few enough to bound memory (each is a block
/// buffer).
const BLOCKS_PER_WORKER: usize = 2;

/// One stream to scan and how to read it.
#[derive(Clone)]
struct Stream {
    source: Arc<str>,
    /// Format, multi-line rule and zone, as configured.
    read_as: ReadAs,
    /// Times without a year are read as not later than this.
    now: Timestamp,
    /// Block buffer size.
    block: usize,
    /// Wait for full blocks (not for a live pipe).
    fill: bool,
}

/// How to search a stream's blocks.
struct Search {
    max_line: usize,
    /// The stream's format (which level spellings its lines may hold).
    format: Format,
    block: usize,
    fill: bool,
    workers: usize,
}

impl Stream {
    /// The source reader for this stream, its profile read from the first
    /// bytes of `reader`; a reader of the whole stream; and those first
    /// bytes.
    fn open<R: io::Read>(self, reader: R) -> io::Result<(SourceReader, Sampled<R>, Vec<u8>)> {
        let (head, whole, reader) = sample(reader, SAMPLE_BYTES, self.fill)?;
        let source = reader_for(&self.read_as, self.source, &head, whole, self.now);
        Ok((source, reader, head))
    }

    fn search(&self, max_line: usize, workers: usize) -> Search {
        Search {
            max_line,
            format: Format::Plain,
            block: self.block,
            fill: self.fill,
            workers,
        }
    }
}

/// A piece of a stream with what the search found in it.
enum Searched {
    /// A block and the lines to look at.
    Lines(Block, pass::Taken),
    /// A line too long for a block: always looked at.
    Long(RawLine),
}

/// Searches one piece.
fn search(
    prefilter: &Prefilter,
    scratch: &mut Scratch,
    (max_line, format): (usize, Format),
    piece: Piece,
) -> Searched {
    match piece {
        Piece::Lines(block) => {
            let mut taken = pass::Taken::default();
            pass::take_lines(
                prefilter,
                scratch,
                block.bytes(),
                max_line,
                format,
                &mut taken,
            );
            Searched::Lines(block, taken)
        }
        Piece::Long(raw) => Searched::Long(raw),
    }
}

/// Reads `reader` on one thread, searches its blocks on `search.workers`
/// others (worker `i` with `copies[i]`, searching as `prefilter` does, then
/// as `tune` makes it once the stream is longer than one block), and hands
/// the results to `handle` on this thread in stream order. Block `k` goes
/// to worker `k % workers` and its result is taken from that worker in
/// turn, so order is kept without sorting. An error from `handle` stops
/// everything; a read error ends the stream after what was read before it.
fn parallel_search(
    reader: impl io::Read + Send,
    search_: &Search,
    prefilter: &Prefilter,
    tune: Option<&(dyn Fn() -> Prefilter + Sync)>,
    copies: &mut [Prefilter],
    spares: &mut Vec<Vec<u8>>,
    handle: &mut dyn FnMut(Searched) -> io::Result<Option<Vec<u8>>>,
) -> io::Result<()> {
    let workers = search_.workers;
    for copy in copies.iter_mut() {
        copy.search_like(prefilter);
    }
    // Set by the reading thread when the second block comes; each worker
    // then searches as it does (either search finds the same lines).
    let tuned = std::sync::OnceLock::<Prefilter>::new();
    let tuned = &tuned;
    std::thread::scope(|scope| {
        let (recycle, recycled) = mpsc::channel::<Vec<u8>>();
        for buf in spares.drain(..) {
            let _ = recycle.send(buf);
        }
        let mut to_workers = Vec::with_capacity(workers);
        let mut from_workers = Vec::with_capacity(workers);
        for (i, prefilter) in copies.iter_mut().enumerate().take(workers) {
            let (work, works) = mpsc::sync_channel::<Piece>(BLOCKS_PER_WORKER);
            let (done, dones) = mpsc::sync_channel::<Searched>(BLOCKS_PER_WORKER);
            to_workers.push(work);
            from_workers.push(dones);
            let max_line = search_.max_line;
            let format = search_.format;
            std::thread::Builder::new()
                .name(format!("triage-search-{i}"))
                .spawn_scoped(scope, move || {
                    let mut scratch = Scratch::default();
                    let mut switched = false;
                    for piece in works {
                        if !switched && let Some(tuned) = tuned.get() {
                            prefilter.search_like(tuned);
                            switched = true;
                        }
                        if done
                            .send(search(prefilter, &mut scratch, (max_line, format), piece))
                            .is_err()
                        {
                            break;
                        }
                    }
                })
                .expect("a thread can be spawned");
        }
        let (max_line, block, fill) = (search_.max_line, search_.block, search_.fill);
        let reading = std::thread::Builder::new()
            .name("triage-read".to_owned())
            .spawn_scoped(scope, move || {
                let mut next = 0;
                let read = read_blocks_from(
                    reader,
                    max_line,
                    block,
                    fill,
                    false,
                    &mut || recycled.try_recv().unwrap_or_default(),
                    &mut |piece| {
                        if next == 1
                            && let Some(tune) = tune
                        {
                            let _ = tuned.set(tune());
                        }
                        let sent = to_workers[next % workers].send(piece);
                        next += 1;
                        sent.map_err(|_| io::Error::other("scan stopped"))
                    },
                );
                // Buffers still coming back are for the next stream.
                (read, recycled)
            })
            .expect("a thread can be spawned");
        let mut next = 0;
        let mut stopped = Ok(());
        while let Ok(searched) = from_workers[next % workers].recv() {
            next += 1;
            match handle(searched) {
                Ok(spare) => {
                    if let Some(buf) = spare {
                        // The reader may be gone already; then the buffer is dropped.
                        let _ = recycle.send(buf);
                    }
                }
                Err(err) => {
                    stopped = Err(err);
                    break;
                }
            }
        }
        // Whatever stopped us, let the other threads finish.
        drop(from_workers);
        let (read, recycled) = reading.join().expect("the reading thread does not panic");
        drop(recycle);
        spares.extend(recycled.try_iter().take(MAX_SPARES));
        stopped.and(read)
    })
}

/// Events of a file read ahead of detection, at most this many...
const AHEAD_EVENTS: usize = 1 << 15;
/// ...handed over this many at a time.
const AHEAD_BATCH: usize = 256;

/// What a file read ahead hands to detection: events (with their
/// detection time and whether a signature may match them), then how its
/// reading ended.
enum Ahead {
    Events(Batch),
    Done(Result<(), io::Error>),
}

/// Events handed from a file's thread to detection.
type Batch = Vec<(Event, Option<Timestamp>, bool)>;

/// Reads and searches `input` (`stream`) on this thread, handing its
/// events to `send` in batches; how its reading ended (an error: the
/// read error, or detection gone).
fn ahead_of(
    parts: &Parts<'_>,
    input: &Input,
    stream: &Stream,
    copy: &mut Prefilter,
    spares: &mut Vec<Vec<u8>>,
    (send, back): (&mpsc::SyncSender<Ahead>, &mpsc::Receiver<Batch>),
) -> Result<(), io::Error> {
    let reader = open(input)?;
    let mut batch = Vec::with_capacity(AHEAD_BATCH);
    let gone = || io::Error::other("scan stopped");
    // A batch detection is done with comes back to be emptied here, where
    // its events were made: freeing memory on the thread that took it is
    // much cheaper than on another.
    let empty = || match back.try_recv() {
        Ok(mut used) => {
            used.clear();
            used
        }
        Err(_) => Vec::with_capacity(AHEAD_BATCH),
    };
    let mut emit = |event: Event, at: Option<Timestamp>, may_match: bool| {
        batch.push((event, at, may_match));
        if batch.len() == AHEAD_BATCH {
            let full = std::mem::replace(&mut batch, empty());
            send.send(Ahead::Events(full)).map_err(|_| gone())?;
        }
        Ok(())
    };
    let scanned = parts.stream(
        stream.clone(),
        reader,
        std::slice::from_mut(copy),
        spares,
        &mut emit,
    );
    if !batch.is_empty() {
        send.send(Ahead::Events(batch)).map_err(|_| gone())?;
    }
    match scanned {
        Ok(()) => Ok(()),
        Err(ScanError::Read(err) | ScanError::Output(err)) => Err(err),
    }
}

/// What the pass over one stream needs of a scan.
#[derive(Clone, Copy)]
struct Parts<'l> {
    library: &'l Library,
    max_line: usize,
    now: Timestamp,
    /// Threads searching blocks.
    workers: usize,
}

impl Parts<'_> {
    /// The pass over one stream: its lines searched in blocks (on
    /// `self.workers` threads, with `copies`, one per thread), each event
    /// a line found is part of handed to `emit` in stream order, with its
    /// detection time and whether a signature may match it. An error of
    /// `emit` stops the pass (an output error).
    fn stream(
        &self,
        stream: Stream,
        reader: impl io::Read + Send,
        copies: &mut [Prefilter],
        spares: &mut Vec<Vec<u8>>,
        emit: &mut dyn FnMut(Event, Option<Timestamp>, bool) -> io::Result<()>,
    ) -> Result<(), ScanError> {
        let max_line = self.max_line;
        let mut search_ = stream.search(max_line, self.workers);
        let (mut source, reader, head) = stream.open(reader).map_err(ScanError::Read)?;
        search_.format = source.parser().format();
        let now = self.now;
        let mut output_error = None;
        if !source.is_local() {
            // Where its events start cannot be told line by line: every
            // line is read.
            let mut each = |event: Event, at: Option<Timestamp>| {
                if output_error.is_none()
                    && let Err(err) = emit(event, at, true)
                {
                    output_error = Some(err);
                }
            };
            let read = line_path(&mut source, reader, max_line, now, &mut each);
            if let Some(err) = output_error {
                return Err(ScanError::Output(err));
            }
            return read.map_err(ScanError::Read);
        }
        // The literal search fitted to this stream's text, once the stream
        // is longer than one block (on shorter ones fitting it costs more
        // than it saves), from its first bytes.
        let shared = self.library.matcher().prefilter();
        let tune = || shared.tuned(&head);
        let tune: Option<&(dyn Fn() -> Prefilter + Sync)> =
            (head.len() >= SAMPLE_BYTES).then_some(&tune);
        let mut pass = pass::Pass::new(source, max_line, now);
        // Turns what the search found into events, in stream order; gives
        // the block's buffer back for reuse.
        let mut handle = |searched: Searched| -> io::Result<Option<Vec<u8>>> {
            let (result, spare) = match searched {
                Searched::Lines(block, taken) => {
                    let view = pass::View::block(&block);
                    (pass.view(&view, &taken, &mut *emit), Some(block.data))
                }
                Searched::Long(raw) => {
                    let taken = pass::Taken::whole(raw.bytes.len());
                    (pass.view(&pass::View::long(&raw), &taken, &mut *emit), None)
                }
            };
            result.map(|()| spare).map_err(|err| {
                output_error = Some(err);
                io::Error::other("output failed")
            })
        };
        let read = if search_.workers <= 1 {
            let mut scratch = Scratch::default();
            let prefilter = &mut copies[0];
            prefilter.search_like(shared);
            let spares_ = std::cell::RefCell::new(std::mem::take(spares));
            let mut pieces = 0;
            let read = read_blocks_from(
                reader,
                max_line,
                search_.block,
                search_.fill,
                false,
                &mut || spares_.borrow_mut().pop().unwrap_or_default(),
                &mut |piece| {
                    if pieces == 1
                        && let Some(tune) = tune
                    {
                        prefilter.search_like(&tune());
                    }
                    pieces += 1;
                    let spare = handle(search(
                        prefilter,
                        &mut scratch,
                        (max_line, search_.format),
                        piece,
                    ))?;
                    spares_.borrow_mut().extend(spare);
                    Ok(())
                },
            );
            *spares = spares_.into_inner();
            spares.truncate(MAX_SPARES);
            read
        } else {
            parallel_search(reader, &search_, shared, tune, copies, spares, &mut handle)
        };
        if output_error.is_none()
            && let Err(err) = pass.finish(&mut |event, at| emit(event, at, true))
        {
            output_error = Some(err);
        }
        if let Some(err) = output_error {
            return Err(ScanError::Output(err));
        }
        read.map_err(ScanError::Read)
    }
}

/// Reads and parses inputs, giving each event its detection time.
struct EventReader<'l> {
    config: &'l Config,
    default_zone: TimeZone,
    max_line: usize,
    now: Timestamp,
}

impl<'l> Scanner<'l> {
    /// A scan with `library`; timestamps without a zone are in the source's
    /// configured zone, else `default_zone`; syslog timestamps (no year) are
    /// read as not later than `now`.
    pub fn new(
        library: &'l Library,
        config: &'l Config,
        default_zone: TimeZone,
        max_line: usize,
        now: Timestamp,
    ) -> Scanner<'l> {
        Scanner {
            library,
            engine: library.engine(),
            workers: std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(4),
            spares: Vec::new(),
            copies: Vec::new(),
            reader: EventReader {
                config,
                default_zone,
                max_line,
                now,
            },
        }
    }

    /// The problems so far: problem-like events no signature matched, one
    /// per template, ranked.
    pub fn problems(&mut self) -> Vec<Problem> {
        self.engine.problems_mut().report()
    }

    /// The template of the last event processed, when it was mined.
    pub fn last_template(&self) -> Option<TemplateId> {
        self.engine.problems().last_template()
    }

    /// The engine's problem groups and miner.
    pub fn engine_problems(&mut self) -> &mut Problems {
        self.engine.problems_mut()
    }

    /// Per-signature counts so far, in library order.
    pub fn tallies(&self) -> impl Iterator<Item = (&'l Signature, &Tally)> {
        self.engine.tallies()
    }

    /// Reads `input` to its end, calling `on_alert` for each alert. Lines read
    /// before an error have been fully processed.
    pub fn scan(
        &mut self,
        input: &Input,
        on_alert: &mut dyn FnMut(Alert) -> io::Result<()>,
    ) -> Result<(), ScanError> {
        let reader = open(input).map_err(ScanError::Read)?;
        // Standard input may be a live pipe: lines are handled as they come.
        let fill = !matches!(input, Input::Stdin);
        let stream = self.reader.stream(input, fill);
        self.scan_stream(stream, reader, &mut Timestamp::now, on_alert)
    }

    /// Searches blocks on this many threads (at least 1; 1 searches on the
    /// calling thread). The default is the machine's parallelism, at most 4.
    pub fn with_workers(mut self, workers: usize) -> Scanner<'l> {
        self.workers = workers.max(1);
        self
    }

    /// Scans one stream in blocks: the fast path of [`Scanner::scan`]. The
    /// search of each block (the costly part) runs on worker threads; events,
    /// detection and output stay on this thread, in stream order.
    fn scan_stream(
        &mut self,
        stream: Stream,
        reader: impl io::Read + Send,
        clock: &mut dyn FnMut() -> Timestamp,
        on_alert: &mut dyn FnMut(Alert) -> io::Result<()>,
    ) -> Result<(), ScanError> {
        let engine = &mut self.engine;
        let mut emit = |event: Event, at: Option<Timestamp>, may_match: bool| {
            engine.process_matching_at(&event, at, may_match, &mut *clock, on_alert)
        };
        let parts = Parts {
            library: self.library,
            max_line: self.reader.max_line,
            now: self.reader.now,
            workers: self.workers,
        };
        if self.copies.len() < self.workers {
            self.copies = vec![self.library.matcher().prefilter().clone(); self.workers];
        }
        parts.stream(
            stream,
            reader,
            &mut self.copies,
            &mut self.spares,
            &mut emit,
        )
    }

    /// [`Scanner::scan`] of each of `inputs` in turn, with the same alerts
    /// in the same order, and `on_done` told how each ended. With more than
    /// one search thread and more than one file, that many files are read
    /// and searched at once, each on one thread (as `rg` searches files),
    /// their events handed to this thread, which runs detection on them
    /// file by file, in order (a file read ahead holds at most
    /// [`AHEAD_EVENTS`] events). An output error stops everything.
    pub fn scan_many(
        &mut self,
        inputs: &[Input],
        on_alert: &mut dyn FnMut(Alert) -> io::Result<()>,
        on_done: &mut dyn FnMut(usize, Result<(), io::Error>),
    ) -> Result<(), io::Error> {
        let files = inputs
            .iter()
            .filter(|input| !matches!(input, Input::Stdin))
            .count();
        if self.workers <= 1 || files < 2 || files < inputs.len() {
            for (i, input) in inputs.iter().enumerate() {
                match self.scan(input, on_alert) {
                    Ok(()) => on_done(i, Ok(())),
                    Err(ScanError::Read(err)) => on_done(i, Err(err)),
                    Err(ScanError::Output(err)) => return Err(err),
                }
            }
            return Ok(());
        }
        let workers = self.workers.min(inputs.len());
        if self.copies.len() < workers {
            self.copies = vec![self.library.matcher().prefilter().clone(); workers];
        }
        let parts = Parts {
            library: self.library,
            max_line: self.reader.max_line,
            now: self.reader.now,
            workers: 1,
        };
        let streams: Vec<Stream> = inputs
            .iter()
            .map(|input| self.reader.stream(input, true))
            .collect();
        let mut senders = Vec::with_capacity(inputs.len());
        let mut receivers = Vec::with_capacity(inputs.len());
        for _ in inputs {
            let (send, receive) = mpsc::sync_channel::<Ahead>(AHEAD_EVENTS / AHEAD_BATCH);
            let (give_back, take_back) = mpsc::channel::<Batch>();
            senders.push(std::sync::Mutex::new(Some((send, take_back))));
            receivers.push((receive, give_back));
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        // Set when detection stopped: no file is begun after.
        let stopped = std::sync::atomic::AtomicBool::new(false);
        let (streams, senders, next, stopped) = (&streams, &senders, &next, &stopped);
        let engine = &mut self.engine;
        std::thread::scope(|scope| {
            for (w, copy) in self.copies.iter_mut().take(workers).enumerate() {
                std::thread::Builder::new()
                    .name(format!("triage-file-{w}"))
                    .spawn_scoped(scope, move || {
                        let mut spares = Vec::new();
                        while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(stream) = streams.get(i) else {
                                break;
                            };
                            let Some((send, back)) =
                                senders[i].lock().ok().and_then(|mut s| s.take())
                            else {
                                break;
                            };
                            let done = ahead_of(
                                &parts,
                                &inputs[i],
                                stream,
                                copy,
                                &mut spares,
                                (&send, &back),
                            );
                            if send.send(Ahead::Done(done)).is_err() {
                                break;
                            }
                        }
                    })
                    .expect("a thread can be spawned");
            }
            let mut clock = Timestamp::now;
            let detect = || -> io::Result<()> {
                for (i, (events, give_back)) in receivers.into_iter().enumerate() {
                    for ahead in events.iter() {
                        match ahead {
                            Ahead::Events(batch) => {
                                for (event, at, may_match) in &batch {
                                    engine.process_matching_at(
                                        event, *at, *may_match, &mut clock, on_alert,
                                    )?;
                                }
                                // The file's thread may be gone: then it is freed here.
                                let _ = give_back.send(batch);
                            }
                            Ahead::Done(done) => {
                                on_done(i, done);
                                break;
                            }
                        }
                    }
                }
                Ok(())
            };
            let detected = detect();
            // The receivers are gone: a thread reading ahead stops at its
            // next batch.
            stopped.store(true, std::sync::atomic::Ordering::Relaxed);
            detected
        })
    }

    /// Reads and parses `input` without matching: each event with its time
    /// (its own, else the nearest earlier line's; `None`: no time).
    pub fn events(
        &self,
        input: &Input,
        on_event: &mut dyn FnMut(Event, Option<Timestamp>),
    ) -> io::Result<()> {
        self.reader.events(input, on_event)
    }

    /// Reads `input` line by line and mines the template of every event (no
    /// matching): afterwards [`Scanner::scan_all`] names each event's
    /// template by its final id, and the miner holds the templates of all
    /// that was read (`triage patterns`).
    pub fn learn_templates(&mut self, input: &Input) -> io::Result<()> {
        let problems = self.engine.problems_mut();
        self.reader.events(input, &mut |event, _| {
            problems.miner_mut().add_event(&event);
        })
    }

    /// Reads `input` line by line and hands every event to `on_event`, with
    /// the signatures it matched and its template, after its alerts went to
    /// `on_alert` (`scan --all`). The template is the one
    /// [`Scanner::learn_templates`] found for the event when templates were
    /// learned first (its final id), else the one it joins as it is mined
    /// (its id at that moment).
    pub fn scan_all(
        &mut self,
        input: &Input,
        on_event: &mut OnEvent<'_, 'l>,
        on_alert: &mut dyn FnMut(Alert) -> io::Result<()>,
    ) -> Result<(), ScanError> {
        let engine = &mut self.engine;
        let learned = !engine.problems().miner().is_empty() && !engine.problems().mines_all();
        match learned {
            true => engine.problems_mut().pause(true),
            false => engine.problems_mut().mine_all(true),
        }
        let mut output_error = None;
        let mut matched = Vec::new();
        let read = self.reader.events(input, &mut |event, at| {
            if output_error.is_some() {
                return;
            }
            let done = engine
                .process_at(&event, at, &mut Timestamp::now, on_alert)
                .and_then(|()| {
                    matched.clear();
                    matched.extend(engine.matched_signatures());
                    let template = match learned {
                        true => engine
                            .problems_mut()
                            .miner_mut()
                            .lookup_event(&event)
                            .map(|t| t.id()),
                        false => engine.problems().last_template(),
                    };
                    on_event(&event, &matched, template)
                });
            if let Err(err) = done {
                output_error = Some(err);
            }
        });
        if let Some(err) = output_error {
            return Err(ScanError::Output(err));
        }
        read.map_err(ScanError::Read)
    }

    /// Matches one event and runs detection on its hits at time `at`.
    pub fn process(
        &mut self,
        event: &Event,
        at: Timestamp,
        on_alert: &mut dyn FnMut(Alert) -> io::Result<()>,
    ) -> io::Result<()> {
        self.engine.process(event, at, on_alert)
    }

    /// [`Scanner::process`] of an event whose time may be unknown (see
    /// [`crate::signature::engine::Engine::process_at`]).
    pub fn process_at(
        &mut self,
        event: &Event,
        time: Option<Timestamp>,
        clock: &mut dyn FnMut() -> Timestamp,
        on_alert: &mut dyn FnMut(Alert) -> io::Result<()>,
    ) -> io::Result<()> {
        self.engine.process_at(event, time, clock, on_alert)
    }

    /// The signatures the last processed event matched (alerting or not).
    pub fn matched(&self) -> impl Iterator<Item = &'l Signature> + '_ {
        self.engine.matched_signatures()
    }

    /// Signatures quiet for their `clear_after` at `now`.
    pub fn clear_due(&mut self, now: Timestamp) -> Vec<Cleared> {
        self.engine.clear_due(now)
    }
}

impl EventReader<'_> {
    fn events(
        &self,
        input: &Input,
        on_event: &mut dyn FnMut(Event, Option<Timestamp>),
    ) -> io::Result<()> {
        let read_as = self.config.read_as(path_of(input), &self.default_zone);
        read_events(input, read_as, self.max_line, self.now, on_event).map(drop)
    }

    /// How `input` is read.
    fn stream(&self, input: &Input, fill: bool) -> Stream {
        Stream {
            source: Arc::from(input.to_string()),
            read_as: self.config.read_as(path_of(input), &self.default_zone),
            now: self.now,
            block: BLOCK,
            fill,
        }
    }
}

/// The line path over `input`, read as `read_as` says (its profile from
/// its first [`SAMPLE_BYTES`]): every event with its detection time, in
/// order (`scan --all`, the demo, `triage patterns`, `triage formats`).
/// Gives back what the input's first lines said of it.
pub fn read_events(
    input: &Input,
    read_as: ReadAs,
    max_line: usize,
    now: Timestamp,
    on_event: &mut dyn FnMut(Event, Option<Timestamp>),
) -> io::Result<Profile> {
    let stream = Stream {
        source: Arc::from(input.to_string()),
        read_as,
        now,
        block: BLOCK,
        fill: !matches!(input, Input::Stdin),
    };
    let (mut source, reader, _) = stream.open(open(input)?)?;
    line_path(&mut source, reader, max_line, now, on_event)?;
    Ok(source.profile().clone())
}

/// The file `input` names (standard input: none).
pub fn path_of(input: &Input) -> Option<&std::path::Path> {
    match input {
        Input::Path(path) => Some(path),
        Input::Stdin => None,
    }
}

/// The one line-by-line read loop: every line of `reader` through
/// `source`, then its held-back event (also after a read error: what was
/// read before it is used).
fn line_path(
    source: &mut SourceReader,
    reader: impl io::Read,
    max_line: usize,
    now: Timestamp,
    emit: &mut dyn FnMut(Event, Option<Timestamp>),
) -> io::Result<()> {
    source.read_all(now, |push| read_lines_from(reader, max_line, push), emit)
}

#[cfg(test)]
mod tests {
    use std::{
        io::Read,
        sync::{Arc, OnceLock},
    };

    use jiff::{Timestamp, tz::TimeZone};
    use proptest::prelude::*;

    use super::*;
    use crate::{model::RawLine, tail::split::LineSplitter, test_support::NIGHTLY_CASES};

    /// The shipped library plus signatures that probe the edges: anchors, a
    /// pattern only invalid UTF-8 produces, case-insensitive text (an
    /// automaton, not literals), thresholds and suppression.
    fn library() -> &'static Library {
        static LIBRARY: OnceLock<Library> = OnceLock::new();
        LIBRARY.get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            std::fs::write(
                dir.path().join("probe.toml"),
                r#"
[[signature]]
id = "probe-code"
title = "t"
severity = "low"
description = "d"
regex = 'ERR (?P<code>[0-9]+)'
threshold = { count = 2, window = "1m", group_by = ["code"] }

[[signature]]
id = "probe-anchored"
title = "t"
severity = "low"
description = "d"
any = ['^boot$', '\Aend of [a-z]+\z']

[[signature]]
id = "probe-replacement"
title = "t"
severity = "low"
description = "d"
regex = 'bad\x{FFFD}byte'

[[signature]]
id = "probe-any-case"
title = "t"
severity = "medium"
description = "d"
regex = '(?i:disk on fire)'
suppress = { window = "30s" }

[[signature]]
id = "probe-unicode"
title = "t"
severity = "low"
description = "d"
regex = '\bé\w+ ok'
"#,
            )
            .expect("write");
            let (library, diags) = Library::load(&[dir.path().to_path_buf()], &[]);
            assert!(diags.is_empty(), "{diags:?}");
            library
        })
    }

    const NOW: i64 = 1_795_300_000;

    fn clock() -> Timestamp {
        Timestamp::from_second(NOW).expect("valid")
    }

    /// Everything an alert says, in a comparable form.
    type Seen = Vec<String>;

    fn describe(found: &Alert) -> String {
        let e = &found.event;
        format!(
            "{} {}:{} @{} ts={:?} lvl={:?} lossy={} trunc={} partial={} {:?} caps={:?} {:?} at={}",
            library().signature(found.signature).id,
            e.line_no,
            e.offset,
            e.source,
            e.ts,
            e.level,
            e.lossy,
            e.truncated,
            e.partial,
            e.text,
            found.captures,
            (found.hits, found.suppressed, &found.key),
            found.at
        )
    }

    /// The line-by-line path: every line parsed and matched.
    /// `sample`: how many first bytes decide the source's profile, and
    /// whether they are all of it.
    fn reference(bytes: &[u8], max_line: usize, (sample, whole): (usize, bool)) -> Seen {
        let config = Config::default();
        let mut scanner = Scanner::new(library(), &config, TimeZone::UTC, max_line, clock());
        let read_as = ReadAs::in_zone(TimeZone::UTC);
        let mut source = reader_for(
            &read_as,
            Arc::from("s.log"),
            &bytes[..sample],
            whole,
            clock(),
        );
        let mut lines: Vec<RawLine> = Vec::new();
        let mut splitter = LineSplitter::new(max_line);
        splitter.push(bytes, &mut |l| lines.push(l));
        splitter.finish(&mut |l| lines.push(l));
        let mut events = Vec::new();
        for raw in lines {
            source.push(raw, clock(), &mut |event, at| events.push((event, at)));
        }
        source.finish(&mut |event, at| events.push((event, at)));
        let mut seen = Vec::new();
        for (event, at) in events {
            scanner
                .process(&event, at.unwrap_or_else(clock), &mut |f| {
                    seen.push(describe(&f));
                    Ok(())
                })
                .expect("no output error");
        }
        seen.extend(scanner.problems().iter().map(describe_problem));
        seen
    }

    fn describe_problem(p: &Problem) -> String {
        format!(
            "problem {} {:?} {} {} {:?} {:?} {:?} {:?}",
            p.template, p.template_text, p.severity, p.count, p.first, p.last, p.levels, p.sample
        )
    }

    /// How much of a live pipe read in chunks of `sizes` decides its
    /// profile: what its reads give until the first line ends (or the
    /// sample is full, or a read finds the stream's end: then it is all of
    /// the stream).
    fn live_sample(bytes: &[u8], sizes: &[usize]) -> (usize, bool) {
        let mut len = 0;
        for read in 0.. {
            let want = sizes.get(read).copied().unwrap_or(usize::MAX).max(1);
            let n = want.min(SAMPLE_BYTES - len).min(bytes.len() - len);
            if n == 0 {
                return (len, true);
            }
            let ends = bytes[len..len + n]
                .iter()
                .any(|b| matches!(b, b'\n' | b'\r'));
            len += n;
            if ends || len == SAMPLE_BYTES {
                break;
            }
        }
        (len, false)
    }

    /// A reader handing out its bytes in the given chunk sizes.
    struct Chunked<'a> {
        data: &'a [u8],
        sizes: Vec<usize>,
        next: usize,
    }

    impl Read for Chunked<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let want = self.sizes.get(self.next).copied().unwrap_or(usize::MAX);
            self.next += 1;
            let n = want.max(1).min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// How the fast path reads: block size, read sizes, full blocks or
    /// not, search threads.
    struct Reads {
        block: usize,
        sizes: Vec<usize>,
        fill: bool,
        workers: usize,
    }

    /// The fast path.
    fn fast(bytes: &[u8], max_line: usize, reads: Reads) -> Seen {
        let config = Config::default();
        let mut scanner = Scanner::new(library(), &config, TimeZone::UTC, max_line, clock())
            .with_workers(reads.workers);
        let reader = Chunked {
            data: bytes,
            sizes: reads.sizes,
            next: 0,
        };
        let stream = Stream {
            source: Arc::from("s.log"),
            read_as: ReadAs::in_zone(TimeZone::UTC),
            now: clock(),
            block: reads.block,
            fill: reads.fill,
        };
        let mut seen = Vec::new();
        scanner
            .scan_stream(stream, reader, &mut clock, &mut |f| {
                seen.push(describe(&f));
                Ok(())
            })
            .expect("scans");
        seen.extend(scanner.problems().iter().map(describe_problem));
        seen
    }

    /// Bodies of lines real logs are made of, the shipped signatures' bait,
    /// and the probes' edges.
    const BODIES: [&str; 41] = [
        "ERROR [ReplicaFetcher replicaId=1] Error for partition t-0 at offset 12",
        "FATAL data TLB error interrupt",
        "E1121 03:12:09.123456 1 reflector.go:138] failed to list",
        // klog letters with no marker word: candidates by their letter only.
        "E1121 03:12:09.123456 1 reflector.go:138] watch of *v1.Pod ended",
        "F0102 03:12:09.1 1 main.go:1] shutting down",
        "<11>Nov 21 03:14:02 h app: x",
        "{\"level\":50,\"msg\":\"write blocked\"}",
        "{\"level\":\"error\",\"msg\":\"x\"}",
        "level=error msg=\"oops\"",
        "Tests run: 3, Failures: 0, Errors: 0",
        "health check ok, 0 errors",
        "wrote to stderr",
        "errors",
        "E [04/Nov/2010:18:45:51 +0000] printer gone",
        "Er(163) Hostd: x",
        "Connection refused to 10.0.0.7:9092",
        "connection refused",
        "10.1.2.3 - - [21/Nov/2026:03:06:42 +0000] \"GET /x HTTP/1.1\" 503 1 \"-\" \"c\"",
        "Caused by: java.io.IOException: Connection reset by peer",
        "DETAIL:  Process 4242 waits for ShareLock on transaction 1; blocked by process 4243.",
        "... 12 more",
        "FATAL:  sorry, too many clients already",
        "Out of memory: Killed process 4321 (java) total-vm:8123456kB",
        "java.lang.OutOfMemoryError: Java heap space",
        "\tat com.example.orders.OrderService.createOrder(OrderService.java:142)",
        "10.1.2.3 - - [21/Nov/2026:03:06:42 +0000] \"GET /api/orders/123 HTTP/1.1\" 504 167 \"-\" \"okhttp/4.12.0\"",
        "INFO all good",
        "ERR 42",
        "ERR 7 ",
        "boot",
        "end of line",
        "bad",
        "byte",
        "Disk On FIRE",
        "\u{e9}t\u{e9} ok",
        "upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.1.2.3, server: x, request: \"GET / HTTP/1.1\", upstream: \"http://10.0.3.7:8080/\", host: \"x\"",
        "Traceback (most recent call last):",
        "panic: runtime error: invalid memory address or nil pointer dereference",
        "LOG:  duration: 1532.201 ms  statement: SELECT 1",
        "  ",
        "0123456789abcdef0123456789abcdef",
    ];

    fn prefix() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            2 => Just(Vec::new()),
            1 => (0u8..6, 0u8..60).prop_map(|(m, s)| format!("2026-11-21T03:0{m}:{s:02}Z ").into_bytes()),
            1 => (0u8..10).prop_map(|s| format!("Nov 21 03:14:0{s} web-1 kernel: ").into_bytes()),
            1 => (0u8..60).prop_map(|s| format!("2026-11-21 03:06:{s:02}.154 UTC [42415] ").into_bytes()),
        ]
    }

    fn body() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            8 => (0..BODIES.len()).prop_map(|i| BODIES[i].as_bytes().to_vec()),
            1 => prop_oneof![
                Just(b"bad\xffbyte".to_vec()),
                Just(vec![0xff]),
                Just(vec![0xc3]),
                Just(vec![0xe2, 0x82]),
                Just(vec![0]),
            ],
            1 => (20usize..200).prop_map(|n| vec![b'x'; n]),
        ]
    }

    fn line() -> impl Strategy<Value = Vec<u8>> {
        (
            prefix(),
            proptest::collection::vec(body(), 1..4),
            prop_oneof![
                6 => Just(b"\n".to_vec()),
                2 => Just(b"\r\n".to_vec()),
                1 => Just(b"\r".to_vec()),
                1 => Just(Vec::new()),
            ],
        )
            .prop_map(|(prefix, body, end)| [prefix, body.join(&b" "[..]), end].concat())
    }

    /// One case of the block/line equality: the stream's lines, the line
    /// cap, block size, read sizes, full blocks or not, search threads.
    fn stream_case() -> impl Strategy<Value = (Vec<Vec<u8>>, usize, usize, Vec<usize>, bool, usize)>
    {
        (
            proptest::collection::vec(line(), 0..60),
            prop_oneof![Just(DEFAULT_LINE_CAP), 4usize..120],
            64usize..400,
            proptest::collection::vec(1usize..300, 0..30),
            any::<bool>(),
            1usize..4,
        )
    }

    /// The block scan gives exactly the alerts of the line-by-line path:
    /// same signatures, positions, text, flags, captures, threshold and
    /// suppression decisions, and times.
    fn block_scan_agrees(
        (lines, max_line, block, sizes, fill, workers): (
            Vec<Vec<u8>>,
            usize,
            usize,
            Vec<usize>,
            bool,
            usize,
        ),
    ) -> Result<(), TestCaseError> {
        let bytes = lines.concat();
        let sample = match fill {
            true => (bytes.len().min(SAMPLE_BYTES), bytes.len() < SAMPLE_BYTES),
            false => live_sample(&bytes, &sizes),
        };
        let expected = reference(&bytes, max_line, sample);
        let reads = Reads {
            block,
            sizes,
            fill,
            workers,
        };
        prop_assert_eq!(fast(&bytes, max_line, reads), expected);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn block_scan_equals_line_by_line(case in stream_case()) {
            block_scan_agrees(case)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(NIGHTLY_CASES))]

        #[test]
        #[ignore = "nightly: many cases, run by hand with `cargo test -- --ignored`"]
        fn block_scan_equals_line_by_line_nightly(case in stream_case()) {
            block_scan_agrees(case)?;
        }
    }

    const DEFAULT_LINE_CAP: usize = 1 << 20;

    /// Logs other systems wrote, each as one stream: the fixtures' files,
    /// `../shared/data`'s (required under `CI`), and lnav's format samples
    /// (one stream per format).
    fn real_streams() -> Vec<(String, Vec<u8>)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut streams = Vec::new();
        for dir in [root.join("tests/fixtures"), root.join("../shared/data")] {
            if !dir.is_dir() {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "{} is missing",
                    dir.display()
                );
                continue;
            }
            for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
                let entry = entry.expect("readable fixtures");
                let path = entry.path();
                let docs = path
                    .extension()
                    .is_some_and(|e| ["md", "py", "tsv", "jsonl", "toml"].iter().any(|d| e == *d))
                    || path
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("LICENSE"));
                if entry.file_type().is_file() && !docs {
                    let bytes = std::fs::read(path).expect("readable fixture");
                    streams.push((path.display().to_string(), bytes));
                }
            }
        }
        let samples = std::fs::read_to_string(root.join("tests/fixtures/lnav/samples.jsonl"))
            .expect("lnav's samples");
        let mut by_format: Vec<(String, Vec<u8>)> = Vec::new();
        for line in samples.lines() {
            let sample: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let format = format!("lnav {}", sample["format"].as_str().unwrap_or("?"));
            let text = sample["line"].as_str().unwrap_or_default();
            match by_format.iter_mut().find(|(name, _)| *name == format) {
                Some((_, bytes)) => bytes.extend(format!("{text}\n").bytes()),
                None => by_format.push((format, format!("{text}\n").into_bytes())),
            }
        }
        streams.extend(by_format);
        streams
    }

    /// On logs written by other systems (every format and level spelling
    /// their parsers read, junk, compressed bytes), the block scan's alerts
    /// and problems are exactly those of the line-by-line path.
    #[test]
    fn real_logs_scan_the_same_in_blocks_as_line_by_line() {
        let streams = real_streams();
        assert!(streams.len() > 50, "{} streams", streams.len());
        for (name, bytes) in streams {
            let sample = (bytes.len().min(SAMPLE_BYTES), bytes.len() < SAMPLE_BYTES);
            let expected = reference(&bytes, DEFAULT_LINE_CAP, sample);
            let reads = Reads {
                block: 16 << 10,
                sizes: Vec::new(),
                fill: true,
                workers: 2,
            };
            assert_eq!(fast(&bytes, DEFAULT_LINE_CAP, reads), expected, "{name}");
        }
    }

    #[test]
    fn a_stream_longer_than_its_sample_is_searched_as_tuned_to_it() {
        // Over 64 KiB of access-log lines (`http` everywhere: the tuned
        // search looks for other parts of literals starting with it), with
        // the bait of many signatures mixed in.
        let mut text = String::new();
        for i in 0..1500 {
            text.push_str(&format!(
                "10.1.2.3 - - [21/Nov/2026:03:06:{:02} +0000] \"GET /api/orders/{i} HTTP/1.1\" 200 167 \"http://shop/\" \"okhttp/4.12.0\"\n",
                i % 60
            ));
            if i % 97 == 0 {
                text.push_str(BODIES[i % BODIES.len()]);
                text.push('\n');
            }
        }
        assert!(text.len() > SAMPLE_BYTES);
        let expected = reference(text.as_bytes(), DEFAULT_LINE_CAP, (SAMPLE_BYTES, false));
        assert!(expected.len() > 5, "{expected:?}");
        for workers in [1, 2, 3] {
            let reads = Reads {
                block: 4096,
                sizes: vec![],
                fill: true,
                workers,
            };
            assert_eq!(fast(text.as_bytes(), DEFAULT_LINE_CAP, reads), expected);
        }
    }

    #[test]
    fn a_stack_trace_is_one_event_timed_by_its_first_line() {
        let text = "2026-11-21T03:00:05Z INFO start\njava.lang.OutOfMemoryError: Java heap space\n\
                    \tat x\nNov 21 03:14:02 web-1 kernel: Out of memory: Killed process 1 (a)\n";
        let reads = Reads {
            block: 64,
            sizes: vec![7, 3, 50],
            fill: true,
            workers: 2,
        };
        let seen = fast(text.as_bytes(), 1 << 20, reads);
        assert_eq!(
            seen,
            reference(text.as_bytes(), 1 << 20, (text.len(), true))
        );
        assert!(seen[0].starts_with("jvm-heap-oom 1:0 "), "{seen:?}");
        assert!(seen[0].ends_with("at=2026-11-21T03:00:05Z"), "{seen:?}");
    }
}
