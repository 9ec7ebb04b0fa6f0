//! Templates of log messages, mined online: each message is assigned a
//! template, its text with the variable parts as `<*>`.
//!
//! Owns: the [`Miner`] (clusters of messages, how a message finds its
//! cluster, how a cluster's template generalises, what it keeps about its
//! lines) and its parts: [`token`] (splitting and masking, the hot loop),
//! [`message`] (where a line's message starts), [`stats`] (per-template
//! counts, times, values). Must not: do I/O, read a clock, or have any
//! setting per system or source: one set of rules for every log.
//! Invariants: the same messages in the same order give the same templates
//! and ids; memory is bounded by [`Config`] (templates, bytes, examples,
//! values), the least recently seen template evicted first; a message that
//! fits no template gets its own; the miner never panics on any input.
//!
//! How a message finds its template (Drain's idea, He et al. 2017, with
//! masking before clustering and a cache of shapes in front):
//! 1. the message is split into tokens at whitespace and each token's
//!    variable parts are masked ([`token`]): numbers, hex, ids, addresses,
//!    times, paths;
//! 2. the masked shape of a message seen before goes straight to its
//!    template (a hash lookup, checked against the template);
//! 3. otherwise the templates with as many tokens and the same first
//!    token are compared: one that the message fits as it is wins (the
//!    most specific); else the most similar one (the share of the
//!    message's tokens equal to the template's constant tokens), if at least
//!    [`Config::similarity`], takes the message and turns the tokens that
//!    differ into `<*>`; else the message starts a template of its own.
//!
//! Ids. A template's id is a hash of its text ([`TemplateId`]), so the same
//! template text has the same id in every run and every file. When a
//! template generalises (a token becomes `<*>`) its text, and so its id,
//! changes: the template remembers its former ids
//! ([`Template::former_ids`]), and within a run it keeps its
//! [`TemplateRef`], which [`Miner::current`] follows when two templates
//! become one. The ids reported at the end of a run are those of the final
//! texts; for the same input they are the same in every run.

pub mod message;
pub mod stats;
pub mod token;

use std::{
    collections::HashMap,
    fmt,
    hash::{BuildHasherDefault, Hasher},
    sync::Arc,
};

use jiff::Timestamp;
use sha2::{Digest, Sha256};

pub use message::message_start;
pub use stats::{Histogram, Levels, Seen, Values};
use token::{Token, Tokens, VAR, WILD_HASH};

use crate::model::{Event, Level};

/// The bounds and the one threshold of a miner.
#[derive(Debug, Clone)]
pub struct Config {
    /// At most this many templates are kept; the least recently seen one is
    /// evicted to make room.
    pub max_templates: usize,
    /// At most about this many bytes are held by templates (texts, example
    /// lines, values); the least recently seen ones are evicted to stay
    /// within.
    pub max_bytes: usize,
    /// Example lines kept per template (the first distinct ones).
    pub max_examples: usize,
    /// Distinct values kept per variable.
    pub max_values: usize,
    /// An example line is kept up to this many bytes.
    pub max_example_len: usize,
    /// How similar a message must be to a template to join it: the share of
    /// its tokens equal to the template's constant tokens.
    pub similarity: f64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_templates: 10_000,
            max_bytes: 64 << 20,
            max_examples: 3,
            max_values: 8,
            max_example_len: 512,
            similarity: 0.5,
        }
    }
}

/// A template's id: a hash of its text, the same in every run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TemplateId(pub u64);

impl TemplateId {
    /// The id of a template text.
    pub fn of_text(text: &str) -> TemplateId {
        let digest = Sha256::digest(text.as_bytes());
        let mut bytes = [0u8; 8];
        bytes[2..].copy_from_slice(&digest[..6]);
        TemplateId(u64::from_be_bytes(bytes))
    }
}

impl fmt::Display for TemplateId {
    /// Twelve hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:012x}", self.0)
    }
}

/// A template within one run of a miner: stays the same while its text
/// generalises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TemplateRef {
    slot: u32,
    generation: u32,
}

/// What [`Miner::add`] did with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assigned {
    /// The template the message belongs to.
    pub template: TemplateRef,
    /// Its id now.
    pub id: TemplateId,
    /// The message started a new template.
    pub created: bool,
}

/// One line given to the miner.
#[derive(Debug, Clone, Copy)]
pub struct Occurrence<'a> {
    /// The whole line (kept as an example).
    pub line: &'a str,
    /// The part of it that is mined: its message, after timestamp, level
    /// and the like.
    pub message: &'a str,
    /// Where it was read.
    pub source: &'a Arc<str>,
    /// 1-based line number.
    pub line_no: u64,
    /// Byte offset of the line.
    pub offset: u64,
    /// Its time.
    pub ts: Option<Timestamp>,
    /// Its level.
    pub level: Option<Level>,
}

/// One token of a template.
#[derive(Debug, Clone)]
struct Part {
    /// Hash of the masked form (`WILD_HASH` for `<*>`).
    hash: u64,
    /// Hash of the masked form without its variable parts.
    skeleton: u64,
    wild: bool,
    /// The masked form as shown (`<*>` for each variable part).
    text: Box<str>,
    /// Bytes of the line's token before and after its variable part, when
    /// the token has one.
    before: u16,
    after: u16,
}

impl Part {
    fn has_variable(&self) -> bool {
        self.wild || self.text.contains("<*>")
    }
}

/// A template and what it keeps about its lines.
#[derive(Debug, Clone)]
pub struct Template {
    id: TemplateId,
    former: Vec<TemplateId>,
    parts: Vec<Part>,
    /// How many parts are not `<*>`.
    constants: u16,
    text: String,
    /// Lines counted.
    count: u64,
    first: Seen,
    last: Seen,
    levels: Levels,
    histogram: Histogram,
    examples: Vec<(String, Seen)>,
    /// The values of each part with a variable, by part index.
    values: Vec<(u16, Values)>,
    /// Bytes held, as last counted.
    bytes: usize,
}

/// At most this many templates (the newest of its bucket) are compared
/// with a message that is not in the shape cache, so a line costs at most
/// that much whatever the input: speed stays linear in the number of lines.
pub const MAX_CANDIDATES: usize = 256;

/// A constant word of a template becomes `<*>` once this many distinct
/// words were seen in its place.
const WORDS_TO_GENERALISE: usize = 3;

/// At most this many former ids are remembered per template.
const MAX_FORMER_IDS: usize = 16;

impl Template {
    /// Its id (a hash of its text).
    pub fn id(&self) -> TemplateId {
        self.id
    }

    /// The ids its text had before, oldest first (at most 16).
    pub fn former_ids(&self) -> &[TemplateId] {
        &self.former
    }

    /// The text: tokens separated by one space, `<*>` for variable parts.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The tokens of the text.
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().map(|p| &*p.text)
    }

    /// How many lines it was given.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Its first line.
    pub fn first(&self) -> &Seen {
        &self.first
    }

    /// Its latest line.
    pub fn last(&self) -> &Seen {
        &self.last
    }

    /// The levels its lines had.
    pub fn levels(&self) -> Levels {
        self.levels
    }

    /// Its lines counted by minute (or wider buckets over a long span).
    pub fn histogram(&self) -> &Histogram {
        &self.histogram
    }

    /// Its first distinct lines, each with where it was seen.
    pub fn examples(&self) -> &[(String, Seen)] {
        &self.examples
    }

    /// The values each variable token took: the token's index in
    /// [`Template::tokens`] and its values (for a token such as `uid=<*>`,
    /// the part where `<*>` is).
    pub fn values(&self) -> impl Iterator<Item = (usize, &Values)> {
        self.values.iter().map(|(i, v)| (usize::from(*i), v))
    }

    fn heap_bytes(&self) -> usize {
        self.text.capacity()
            + self.former.capacity() * 8
            + self
                .parts
                .iter()
                .map(|p| size_of::<Part>() + p.text.len())
                .sum::<usize>()
            + self.histogram.heap_bytes()
            + self
                .examples
                .iter()
                .map(|(l, _)| l.capacity() + size_of::<(String, Seen)>())
                .sum::<usize>()
            + self
                .values
                .iter()
                .map(|(_, v)| v.heap_bytes() + size_of::<(u16, Values)>())
                .sum::<usize>()
            + size_of::<Template>()
    }
}

/// A map whose keys are already hashes.
type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = token::mix(u64::from(n));
    }
}

/// No slot: the end of the recency list.
const NIL: u32 = u32::MAX;

#[derive(Debug)]
struct Slot {
    template: Option<Template>,
    generation: u32,
    /// Recency list: more recently seen neighbour, less recently seen one.
    newer: u32,
    older: u32,
    bucket: u64,
    key: u64,
}

/// The template miner.
#[derive(Debug)]
pub struct Miner {
    config: Config,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Most and least recently seen templates.
    newest: u32,
    oldest: u32,
    live: usize,
    bytes: usize,
    /// Masked shape of a message -> the template it went to.
    shapes: IdMap<u64, TemplateRef>,
    /// Token count and first token -> templates.
    buckets: IdMap<u64, Vec<u32>>,
    /// Hash of a template's tokens -> its slot.
    by_key: IdMap<u64, u32>,
    /// Templates that became another one (identical texts merged).
    merged: HashMap<TemplateRef, TemplateRef>,
    tokens: Tokens,
    /// Templates compared with messages so far.
    comparisons: u64,
}

/// The shape cache is cleared when it grows past this many entries per
/// template allowed.
const SHAPES_PER_TEMPLATE: usize = 8;

impl Default for Miner {
    fn default() -> Miner {
        Miner::new(Config::default())
    }
}

impl Miner {
    /// A miner with these bounds.
    pub fn new(config: Config) -> Miner {
        Miner {
            config,
            slots: Vec::new(),
            free: Vec::new(),
            newest: NIL,
            oldest: NIL,
            live: 0,
            bytes: 0,
            shapes: IdMap::default(),
            buckets: IdMap::default(),
            by_key: IdMap::default(),
            merged: HashMap::new(),
            tokens: Tokens::new(),
            comparisons: 0,
        }
    }

    /// The bounds it keeps to.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Mines an event: the first line of its text, from where its message
    /// starts (the parser's [`Event::message`] when it found a prefix, else
    /// [`message_start`]).
    pub fn add_event(&mut self, event: &Event) -> Assigned {
        let (first, start) = event_message(event);
        let occurrence = Occurrence {
            line: first,
            message: &first[start..],
            source: &event.source,
            line_no: event.line_no,
            offset: event.offset,
            ts: event.ts,
            level: event.level,
        };
        self.add(&occurrence)
    }

    /// Assigns a line's message to a template, and counts it there.
    pub fn add(&mut self, occurrence: &Occurrence<'_>) -> Assigned {
        let mut tokens = std::mem::take(&mut self.tokens);
        tokens.split(occurrence.message);
        let shape = shape_hash(&tokens.list);
        let hit = self
            .shapes
            .get(&shape)
            .copied()
            .filter(|r| self.fits(*r, &tokens.list));
        let (slot, created) = match hit {
            Some(r) => (r.slot, false),
            None => {
                let (slot, created) = self.place(&tokens, occurrence);
                if self.shapes.len() >= self.config.max_templates.max(64) * SHAPES_PER_TEMPLATE {
                    self.shapes.clear();
                }
                let generation = self.slots[slot as usize].generation;
                self.shapes.insert(shape, TemplateRef { slot, generation });
                (slot, created)
            }
        };
        self.count(slot, &tokens, occurrence, created);
        self.tokens = tokens;
        self.touch(slot);
        self.evict(slot);
        let s = &self.slots[slot as usize];
        Assigned {
            template: TemplateRef {
                slot,
                generation: s.generation,
            },
            id: s.template.as_ref().map_or(TemplateId(0), |t| t.id),
            created,
        }
    }

    /// The template a reference names now: itself, or the one it was merged
    /// into; `None` once evicted. Merges are remembered up to four times
    /// [`Config::max_templates`] of them (then forgotten all at once, to
    /// stay bounded): a reference older than that to a merged template is
    /// `None` too; its id is still among the [`Template::former_ids`].
    pub fn current(&self, mut r: TemplateRef) -> Option<TemplateRef> {
        for _ in 0..64 {
            let slot = self.slots.get(r.slot as usize)?;
            if slot.generation == r.generation && slot.template.is_some() {
                return Some(r);
            }
            r = *self.merged.get(&r)?;
        }
        None
    }

    /// The template a reference names (after merges), if still kept.
    pub fn get(&self, r: TemplateRef) -> Option<&Template> {
        let r = self.current(r)?;
        self.slots[r.slot as usize].template.as_ref()
    }

    /// Every template kept, in no particular order.
    pub fn templates(&self) -> impl Iterator<Item = &Template> {
        self.slots.iter().filter_map(|s| s.template.as_ref())
    }

    /// How many templates are kept.
    pub fn len(&self) -> usize {
        self.live
    }

    /// No template is kept.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// How many times a template was compared with a message that missed
    /// the shape cache (at most [`MAX_CANDIDATES`] per such message, and
    /// as many again to find its siblings).
    pub fn comparisons(&self) -> u64 {
        self.comparisons
    }

    /// About how many bytes the templates hold.
    pub fn held_bytes(&self) -> usize {
        self.bytes
    }

    /// The template whose id, or one of whose former ids, is `id`.
    pub fn find(&self, id: TemplateId) -> Option<&Template> {
        self.templates()
            .find(|t| t.id == id)
            .or_else(|| self.templates().find(|t| t.former.contains(&id)))
    }

    /// [`Miner::lookup`] of an event's message (the first line of its text,
    /// from where its message starts, as [`Miner::add_event`] mines it).
    pub fn lookup_event(&mut self, event: &Event) -> Option<&Template> {
        let (first, start) = event_message(event);
        self.lookup(&first[start..])
    }

    /// The template a message belongs to now, without counting it: the
    /// template its shape went to, else the most specific template with as
    /// many tokens and the same first token that it fits as it is. `None`
    /// when no kept template takes it.
    pub fn lookup(&mut self, message: &str) -> Option<&Template> {
        let mut tokens = std::mem::take(&mut self.tokens);
        tokens.split(message);
        let shape = shape_hash(&tokens.list);
        let mut found = self
            .shapes
            .get(&shape)
            .copied()
            .filter(|r| self.fits(*r, &tokens.list))
            .map(|r| r.slot);
        if found.is_none()
            && let Some(candidates) = self.buckets.get(&bucket_key(&tokens.list))
        {
            found = candidates
                .iter()
                .filter_map(|&slot| {
                    let t = self.slots[slot as usize].template.as_ref()?;
                    fits(t, &tokens.list).then(|| (slot, t.parts.iter().filter(|p| p.wild).count()))
                })
                .min_by_key(|&(_, wilds)| wilds)
                .map(|(slot, _)| slot);
        }
        self.tokens = tokens;
        found.and_then(|slot| self.slots[slot as usize].template.as_ref())
    }

    fn fits(&self, r: TemplateRef, tokens: &[Token]) -> bool {
        let Some(slot) = self.slots.get(r.slot as usize) else {
            return false;
        };
        if slot.generation != r.generation {
            return false;
        }
        slot.template.as_ref().is_some_and(|t| fits(t, tokens))
    }

    /// Finds or makes the template for a message not in the shape cache.
    fn place(&mut self, tokens: &Tokens, occurrence: &Occurrence<'_>) -> (u32, bool) {
        let bucket = bucket_key(&tokens.list);
        let mut best: Option<(u32, f64, usize)> = None;
        let mut exact: Option<(u32, usize)> = None;
        if let Some(candidates) = self.buckets.get(&bucket) {
            let newest = &candidates[candidates.len().saturating_sub(MAX_CANDIDATES)..];
            self.comparisons += newest.len() as u64;
            for &slot in newest.iter().rev() {
                let Some(t) = self.slots[slot as usize].template.as_ref() else {
                    continue;
                };
                let wilds = t.parts.iter().filter(|p| p.wild).count();
                if fits(t, &tokens.list) {
                    if exact.is_none_or(|(_, w)| wilds < w) {
                        exact = Some((slot, wilds));
                    }
                    continue;
                }
                let sim = similarity(&t.parts, &tokens.list);
                if best.is_none_or(|(_, s, w)| sim > s || (sim == s && wilds > w)) {
                    best = Some((slot, sim, wilds));
                }
            }
        }
        if let Some((slot, _)) = exact {
            return (slot, false);
        }
        let Some((slot, sim, _)) = best.filter(|b| b.1 >= self.config.similarity) else {
            return (self.create(tokens, occurrence.message, bucket), true);
        };
        // Tokens that differ where the message's is not wholly variable,
        // nor the same as the template's but for variable parts (`()` and
        // `(<*>)`): `true` and `false`, `startup` and `shutdown`, two user
        // names, `kernel[<*>]:` and `QQ[<*>]:`. The template generalises
        // there only once that many distinct tokens were seen in the same
        // place, each in a template of its own until then.
        let parts = &self.template(slot).parts;
        let differ: Vec<usize> = (0..parts.len())
            .filter(|&i| !parts[i].wild && parts[i].hash != tokens.list[i].hash)
            .collect();
        let soft = differ.iter().any(|&i| {
            let (p, t) = (&parts[i], &tokens.list[i]);
            !(t.wild || (t.has_var || p.has_variable()) && p.skeleton == tokens.skeleton(i))
        });
        let _ = sim;
        if !soft {
            let slot = self.generalise(slot, tokens, occurrence.message);
            return (slot, false);
        }
        let siblings: Vec<u32> = self
            .buckets
            .get(&bucket)
            .map(|candidates| {
                candidates[candidates.len().saturating_sub(MAX_CANDIDATES)..]
                    .iter()
                    .copied()
                    .filter(|&c| {
                        self.slots[c as usize].template.as_ref().is_some_and(|t| {
                            t.parts
                                .iter()
                                .zip(&tokens.list)
                                .enumerate()
                                .all(|(i, (p, l))| {
                                    p.wild || p.hash == l.hash || differ.contains(&i)
                                })
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.comparisons += self
            .buckets
            .get(&bucket)
            .map_or(0, |c| c.len().min(MAX_CANDIDATES)) as u64;
        if siblings.len() + 1 < WORDS_TO_GENERALISE {
            return (self.create(tokens, occurrence.message, bucket), true);
        }
        let mut into = self.generalise(slot, tokens, occurrence.message);
        for sibling in siblings {
            if sibling != into && self.slots[sibling as usize].template.is_some() {
                into = self.absorb(into, sibling);
            }
        }
        (into, false)
    }

    fn template(&self, slot: u32) -> &Template {
        self.slots[slot as usize]
            .template
            .as_ref()
            .expect("a live slot holds a template")
    }

    /// Makes template `into` general enough for template `from`'s lines,
    /// then merges `from` into it. Returns the slot that holds the result.
    fn absorb(&mut self, into: u32, from: u32) -> u32 {
        let (a, b) = (self.template(into), self.template(from));
        let positions: Vec<(usize, Option<String>)> = a
            .parts
            .iter()
            .zip(&b.parts)
            .enumerate()
            .filter(|(_, (p, q))| !p.wild && p.hash != q.hash)
            .map(|(i, (_, q))| (i, (!q.has_variable()).then(|| q.text.to_string())))
            .collect();
        let into = self.wild_at(into, &positions);
        if into != from && self.slots[from as usize].template.is_some() {
            self.merge(into, from)
        } else {
            into
        }
    }

    fn create(&mut self, tokens: &Tokens, message: &str, bucket: u64) -> u32 {
        let parts: Vec<Part> = (0..tokens.len())
            .map(|i| part(tokens, i, message))
            .collect();
        let key = parts_key(&parts);
        let text = parts_text(&parts);
        let id = TemplateId::of_text(&text);
        let constants = parts.iter().filter(|p| !p.wild).count() as u16;
        let template = Template {
            id,
            former: Vec::new(),
            constants,
            parts,
            text,
            count: 0,
            first: empty_seen(),
            last: empty_seen(),
            levels: Levels::default(),
            histogram: Histogram::default(),
            examples: Vec::new(),
            values: Vec::new(),
            bytes: 0,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                let s = &mut self.slots[slot as usize];
                s.generation = s.generation.wrapping_add(1);
                s.template = Some(template);
                s.bucket = bucket;
                s.key = key;
                slot
            }
            None => {
                self.slots.push(Slot {
                    template: Some(template),
                    generation: 0,
                    newer: NIL,
                    older: NIL,
                    bucket,
                    key,
                });
                (self.slots.len() - 1) as u32
            }
        };
        self.live += 1;
        self.link_newest(slot);
        self.buckets.entry(bucket).or_default().push(slot);
        self.by_key.insert(key, slot);
        self.recount(slot);
        slot
    }

    /// Turns the tokens of template `slot` that differ from the message's
    /// into `<*>`. Returns the slot that holds the template.
    fn generalise(&mut self, slot: u32, tokens: &Tokens, message: &str) -> u32 {
        let parts = &self.template(slot).parts;
        let positions: Vec<(usize, Option<String>)> = parts
            .iter()
            .zip(&tokens.list)
            .enumerate()
            .filter(|(_, (p, t))| !p.wild && p.hash != t.hash)
            .map(|(i, (_, t))| {
                (
                    i,
                    Some(message[t.start as usize..t.end as usize].to_owned()),
                )
            })
            .collect();
        self.wild_at(slot, &positions)
    }

    /// Turns the tokens of template `slot` at `positions` into `<*>`, their
    /// variable's values seeded with the constant they had and the value
    /// given; merges the template with another that then has the same
    /// tokens. Returns the slot that holds the template.
    fn wild_at(&mut self, slot: u32, positions: &[(usize, Option<String>)]) -> u32 {
        if positions.is_empty() {
            return slot;
        }
        let cap = self.config.max_values;
        let template = self.slots[slot as usize]
            .template
            .as_mut()
            .expect("a candidate slot holds a template");
        for (i, value) in positions {
            let Some(p) = template.parts.get_mut(*i) else {
                continue;
            };
            let old_value = (!p.has_variable()).then(|| p.text.to_string());
            p.wild = true;
            p.hash = WILD_HASH;
            p.skeleton = WILD_HASH;
            p.text = "<*>".into();
            p.before = 0;
            p.after = 0;
            let index = *i as u16;
            let at = match template.values.iter().position(|(j, _)| *j == index) {
                Some(at) => {
                    template.values[at].1 = Values::default();
                    at
                }
                None => {
                    template.values.push((index, Values::default()));
                    template.values.len() - 1
                }
            };
            let values = &mut template.values[at].1;
            for v in old_value.iter().chain(value) {
                values.add(v, cap);
            }
        }
        template.constants = template.parts.iter().filter(|p| !p.wild).count() as u16;
        template.values.sort_by_key(|(i, _)| *i);
        let text = parts_text(&template.parts);
        let id = TemplateId::of_text(&text);
        if template.former.len() == MAX_FORMER_IDS {
            template.former.remove(0);
        }
        template.former.push(template.id);
        template.id = id;
        template.text = text;
        let key = parts_key(&template.parts);
        let old_key = std::mem::replace(&mut self.slots[slot as usize].key, key);
        if self.by_key.get(&old_key) == Some(&slot) {
            self.by_key.remove(&old_key);
        }
        self.recount(slot);
        match self.by_key.get(&key).copied() {
            Some(other) if other != slot => self.merge(other, slot),
            _ => {
                self.by_key.insert(key, slot);
                slot
            }
        }
    }

    /// Merges template `from` into `into` (same tokens); returns `into`.
    fn merge(&mut self, into: u32, from: u32) -> u32 {
        let generation = self.slots[from as usize].generation;
        let Some(gone) = self.remove(from) else {
            return into;
        };
        let cap = self.config.max_values;
        let max_examples = self.config.max_examples;
        let into_generation = self.slots[into as usize].generation;
        let template = self.slots[into as usize]
            .template
            .as_mut()
            .expect("a merge target holds a template");
        template.count += gone.count;
        if gone
            .first
            .ts
            .is_some_and(|g| template.first.ts.is_none_or(|t| g < t))
        {
            template.first = gone.first;
        }
        if gone
            .last
            .ts
            .is_some_and(|g| template.last.ts.is_none_or(|t| g > t))
        {
            template.last = gone.last;
        }
        template.levels = template.levels.union(gone.levels);
        if let Some(start) = gone.histogram.start() {
            let width = i64::from(gone.histogram.width_minutes()) * 60;
            for (i, &c) in gone.histogram.counts().iter().enumerate() {
                if let Ok(ts) = Timestamp::from_second(start.as_second() + i as i64 * width) {
                    for _ in 0..c.min(1024) {
                        template.histogram.add(ts);
                    }
                }
            }
        }
        for example in gone.examples {
            if template.examples.len() < max_examples
                && !template.examples.iter().any(|(l, _)| *l == example.0)
            {
                template.examples.push(example);
            }
        }
        for (i, values) in gone.values {
            if let Some((_, mine)) = template.values.iter_mut().find(|(j, _)| *j == i) {
                for v in &values.values {
                    mine.add(v, cap);
                }
                mine.more |= values.more;
            }
        }
        for id in gone.former.into_iter().chain([gone.id]) {
            if template.former.len() == MAX_FORMER_IDS {
                template.former.remove(0);
            }
            if id != template.id && !template.former.contains(&id) {
                template.former.push(id);
            }
        }
        self.merged.insert(
            TemplateRef {
                slot: from,
                generation,
            },
            TemplateRef {
                slot: into,
                generation: into_generation,
            },
        );
        if self.merged.len() > self.config.max_templates.max(64) * 4 {
            self.merged.clear();
        }
        self.recount(into);
        into
    }

    /// Counts a line in its template.
    fn count(&mut self, slot: u32, tokens: &Tokens, occurrence: &Occurrence<'_>, created: bool) {
        let max_examples = self.config.max_examples;
        let max_example_len = self.config.max_example_len;
        let cap = self.config.max_values;
        let template = self.slots[slot as usize]
            .template
            .as_mut()
            .expect("an assigned slot holds a template");
        let mut grew = created;
        template.count += 1;
        let seen = |source: &Arc<str>| Seen {
            source: Arc::clone(source),
            line_no: occurrence.line_no,
            offset: occurrence.offset,
            ts: occurrence.ts,
        };
        if template.count == 1
            || occurrence
                .ts
                .is_some_and(|ts| template.first.ts.is_some_and(|f| ts < f))
        {
            template.first = seen(occurrence.source);
        }
        let last = &mut template.last;
        if occurrence.ts.is_none() || last.ts.is_none_or(|l| occurrence.ts >= Some(l)) {
            if Arc::ptr_eq(&last.source, occurrence.source) {
                last.line_no = occurrence.line_no;
                last.offset = occurrence.offset;
                last.ts = occurrence.ts;
            } else {
                *last = seen(occurrence.source);
            }
        }
        if let Some(level) = occurrence.level {
            template.levels.add(level);
        }
        if let Some(ts) = occurrence.ts {
            let before = template.histogram.counts().len();
            template.histogram.add(ts);
            grew |= template.histogram.counts().len() > before;
        }
        if template.examples.len() < max_examples {
            let line = &occurrence.line[..stats::floor_boundary(occurrence.line, max_example_len)];
            if !template.examples.iter().any(|(l, _)| l == line) {
                template
                    .examples
                    .push((line.to_owned(), seen(occurrence.source)));
                grew = true;
            }
        }
        let message = occurrence.message;
        for (index, values) in &mut template.values {
            if values.more && values.values.len() >= cap {
                continue;
            }
            let (Some(part), Some(t)) = (
                template.parts.get(usize::from(*index)),
                tokens.list.get(usize::from(*index)),
            ) else {
                continue;
            };
            let token = &message[t.start as usize..t.end as usize];
            let from = usize::from(part.before).min(token.len());
            let to = token
                .len()
                .saturating_sub(usize::from(part.after))
                .max(from);
            let (Some(value), n) = (token.get(from..to), values.values.len()) else {
                continue;
            };
            values.add(value, cap);
            grew |= values.values.len() > n;
        }
        if grew {
            self.recount(slot);
        }
    }

    fn recount(&mut self, slot: u32) {
        let Some(template) = self.slots[slot as usize].template.as_mut() else {
            return;
        };
        if template.values.is_empty() {
            template.values = template
                .parts
                .iter()
                .enumerate()
                .filter(|(_, p)| p.has_variable())
                .map(|(i, _)| (i as u16, Values::default()))
                .collect();
        }
        let bytes = template.heap_bytes();
        self.bytes = self.bytes - template.bytes + bytes;
        template.bytes = bytes;
    }

    /// Evicts the least recently seen templates while over the bounds,
    /// never `keep`.
    fn evict(&mut self, keep: u32) {
        while self.live > self.config.max_templates.max(1) || self.bytes > self.config.max_bytes {
            let victim = self.oldest;
            if victim == NIL || victim == keep {
                break;
            }
            self.remove(victim);
        }
    }

    fn remove(&mut self, slot: u32) -> Option<Template> {
        let s = &mut self.slots[slot as usize];
        let template = s.template.take()?;
        let (bucket, key) = (s.bucket, s.key);
        self.unlink(slot);
        if let Some(list) = self.buckets.get_mut(&bucket) {
            if let Some(at) = list.iter().position(|&x| x == slot) {
                list.swap_remove(at);
            }
            if list.is_empty() {
                self.buckets.remove(&bucket);
            }
        }
        if self.by_key.get(&key) == Some(&slot) {
            self.by_key.remove(&key);
        }
        self.live -= 1;
        self.bytes -= template.bytes;
        self.free.push(slot);
        Some(template)
    }

    fn touch(&mut self, slot: u32) {
        if self.newest != slot {
            self.unlink(slot);
            self.link_newest(slot);
        }
    }

    fn link_newest(&mut self, slot: u32) {
        let old = self.newest;
        {
            let s = &mut self.slots[slot as usize];
            s.newer = NIL;
            s.older = old;
        }
        if old != NIL {
            self.slots[old as usize].newer = slot;
        }
        self.newest = slot;
        if self.oldest == NIL {
            self.oldest = slot;
        }
    }

    fn unlink(&mut self, slot: u32) {
        let (newer, older) = {
            let s = &self.slots[slot as usize];
            (s.newer, s.older)
        };
        if newer != NIL {
            self.slots[newer as usize].older = older;
        } else if self.newest == slot {
            self.newest = older;
        }
        if older != NIL {
            self.slots[older as usize].newer = newer;
        } else if self.oldest == slot {
            self.oldest = newer;
        }
        let s = &mut self.slots[slot as usize];
        s.newer = NIL;
        s.older = NIL;
    }
}

fn empty_seen() -> Seen {
    Seen {
        source: Arc::from(""),
        line_no: 0,
        offset: 0,
        ts: None,
    }
}

/// The message fits the template as it is: same length, every constant
/// token equal; a template of nothing but `<*>` fits only messages of
/// nothing but variables.
fn fits(template: &Template, tokens: &[Token]) -> bool {
    template.parts.len() == tokens.len()
        && (template.constants > 0 || tokens.iter().all(|t| t.wild))
        && template
            .parts
            .iter()
            .zip(tokens)
            .all(|(p, t)| p.wild || p.hash == t.hash)
}

/// The share of the message's tokens equal to the template's constant
/// tokens.
fn similarity(parts: &[Part], tokens: &[Token]) -> f64 {
    if parts.len() != tokens.len() || parts.is_empty() {
        return 0.0;
    }
    let same = parts
        .iter()
        .zip(tokens)
        .filter(|(p, t)| !p.wild && p.hash == t.hash)
        .count();
    same as f64 / parts.len() as f64
}

/// Where candidates for a message are looked for: its token count and
/// first token (any token with a variable part counts as `<*>`).
fn bucket_key(tokens: &[Token]) -> u64 {
    let first = match tokens.first() {
        Some(t) if !t.has_var => t.hash,
        _ => WILD_HASH,
    };
    token::mix(first ^ (tokens.len() as u64).wrapping_mul(0x100_0000_01B3))
}

fn shape_hash(tokens: &[Token]) -> u64 {
    let mut h = tokens.len() as u64;
    for t in tokens {
        h = token::mix(h ^ t.hash);
    }
    h
}

fn parts_key(parts: &[Part]) -> u64 {
    let mut h = parts.len() as u64 ^ 0x5555;
    for p in parts {
        h = token::mix(h ^ p.hash);
    }
    h
}

fn parts_text(parts: &[Part]) -> String {
    let mut text = String::with_capacity(parts.iter().map(|p| p.text.len() + 1).sum());
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        text.push_str(&p.text);
    }
    text
}

fn part(tokens: &Tokens, i: usize, message: &str) -> Part {
    let t = tokens.list[i];
    if t.wild {
        return Part {
            hash: WILD_HASH,
            skeleton: WILD_HASH,
            wild: true,
            text: "<*>".into(),
            before: 0,
            after: 0,
        };
    }
    let masked = tokens.masked(i);
    let before = masked.iter().position(|&b| b == VAR);
    let (before, after) = match before {
        Some(b) => {
            let last = masked.iter().rposition(|&b| b == VAR).unwrap_or(b);
            (b, masked.len() - last - 1)
        }
        None => (0, 0),
    };
    let _ = message;
    Part {
        hash: t.hash,
        skeleton: tokens.skeleton(i),
        wild: false,
        text: token::display(masked).into_boxed_str(),
        before: before.min(usize::from(u16::MAX)) as u16,
        after: after.min(usize::from(u16::MAX)) as u16,
    }
}

/// An event's first line and where its message starts in it: the parser's
/// [`Event::message`] when it found a prefix, else [`message_start`].
fn event_message(event: &Event) -> (&str, usize) {
    let first = event.text.split('\n').next().unwrap_or("");
    let first = first.strip_suffix('\r').unwrap_or(first);
    let start = match event.message {
        at if at > 0 && at <= first.len() && first.is_char_boundary(at) => at,
        _ => message_start(first),
    };
    (first, start)
}

#[cfg(test)]
mod tests;
