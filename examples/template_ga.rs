//! Grouping accuracy of triage's template miner on the Loghub 2k samples
//! (logpai/loghub), as logpai's `evaluator.py` defines it: a line counts as
//! right when the set of lines in its mined group is exactly the set of
//! lines of its true template.
//!
//! ```text
//! cargo run --release --example template_ga -- LOGHUB_DIR [--debug SYSTEM] [--similarity X]
//! ```
//!
//! For each system `S` it reads `S/S_2k.log_structured.csv` (each line's
//! true `EventId`) and mines, with the same default settings for every
//! system:
//! - `content`: the `Content` column (the message, as Loghub cut it with a
//!   per-system header format);
//! - `raw`: the lines of `S/S_2k.log` as a user's file gives them, through
//!   triage's parser (format detected from the first lines) and the miner's
//!   own message start, exactly as `triage` reads a file.
//!
//! Prints one tab-separated line per system (`system`, GA of each, template
//! counts, true template count) and the averages. `--debug SYSTEM` prints
//! the mined groups that are wrong for that system (content mode;
//! `--debug-raw SYSTEM`: raw mode).

use std::{collections::HashMap, error::Error, fs, path::Path, process::ExitCode, sync::Arc};

use jiff::{Timestamp, tz::TimeZone};
use triage::{
    model::RawLine,
    parse::{
        Format, Parser, TimeContext,
        fields::csv,
        template::{Config, Miner, Occurrence, TemplateRef, message_start},
    },
};

const SYSTEMS: [&str; 16] = [
    "Android",
    "Apache",
    "BGL",
    "Hadoop",
    "HDFS",
    "HealthApp",
    "HPC",
    "Linux",
    "Mac",
    "OpenSSH",
    "OpenStack",
    "Proxifier",
    "Spark",
    "Thunderbird",
    "Windows",
    "Zookeeper",
];

struct Labelled {
    contents: Vec<String>,
    raw: Vec<String>,
    truth: Vec<String>,
    templates: Vec<String>,
}

fn load(dir: &Path, system: &str) -> Result<Labelled, Box<dyn Error>> {
    let base = dir.join(system);
    let structured = fs::read(base.join(format!("{system}_2k.log_structured.csv")))?;
    let structured = String::from_utf8_lossy(&structured);
    let mut rows = structured.lines();
    let header = csv(rows.next().ok_or("empty csv")?);
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("{system}: no column {name}"))
    };
    let (content, event, template) = (col("Content")?, col("EventId")?, col("EventTemplate")?);
    let (mut contents, mut truth, mut templates) = (Vec::new(), Vec::new(), Vec::new());
    for row in rows {
        let fields = csv(row);
        contents.push(fields.get(content).cloned().unwrap_or_default());
        truth.push(fields.get(event).cloned().unwrap_or_default());
        templates.push(fields.get(template).cloned().unwrap_or_default());
    }
    let raw = fs::read(base.join(format!("{system}_2k.log")))?;
    let raw: Vec<String> = String::from_utf8_lossy(&raw)
        .lines()
        .map(str::to_owned)
        .collect();
    Ok(Labelled {
        contents,
        raw,
        truth,
        templates,
    })
}

/// logpai's grouping accuracy: lines whose mined group is exactly their
/// true group, over all lines with a true template.
fn grouping_accuracy(truth: &[String], mined: &[u64]) -> f64 {
    let keep: Vec<usize> = (0..truth.len()).filter(|&i| !truth[i].is_empty()).collect();
    let mut true_size: HashMap<&str, usize> = HashMap::new();
    for &i in &keep {
        *true_size.entry(truth[i].as_str()).or_default() += 1;
    }
    let mut groups: HashMap<u64, Vec<usize>> = HashMap::new();
    for &i in &keep {
        groups.entry(mined[i]).or_default().push(i);
    }
    let mut right = 0;
    for lines in groups.values() {
        let first = truth[lines[0]].as_str();
        if lines.iter().all(|&i| truth[i] == first) && true_size[first] == lines.len() {
            right += lines.len();
        }
    }
    right as f64 / keep.len().max(1) as f64
}

/// Mines `messages` (each with its whole line); the final group of each.
fn mine(config: &Config, lines: &[(String, usize)]) -> (Vec<u64>, usize, HashMap<u64, String>) {
    let mut miner = Miner::new(config.clone());
    let source: Arc<str> = Arc::from("loghub");
    let refs: Vec<TemplateRef> = lines
        .iter()
        .enumerate()
        .map(|(i, (line, start))| {
            miner
                .add(&Occurrence {
                    line,
                    message: &line[*start..],
                    source: &source,
                    line_no: i as u64 + 1,
                    offset: 0,
                    ts: None,
                    level: None,
                })
                .template
        })
        .collect();
    let groups = refs
        .iter()
        .map(|&r| miner.get(r).map_or(u64::MAX, |t| t.id().0))
        .collect();
    let texts = miner
        .templates()
        .map(|t| (t.id().0, t.text().to_owned()))
        .collect();
    (groups, miner.len(), texts)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("template_ga: {err}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut take = |name: &str| -> Option<String> {
        let i = args.iter().position(|a| a == name)?;
        args.remove(i);
        (i < args.len()).then(|| args.remove(i))
    };
    let debug = take("--debug");
    let debug_raw = take("--debug-raw");
    let mut config = Config::default();
    if let Some(s) = take("--similarity") {
        config.similarity = s.parse()?;
    }
    let dir = args
        .first()
        .ok_or("usage: template_ga LOGHUB_DIR [--debug SYSTEM] [--similarity X]")?;
    let dir = Path::new(dir);
    let ctx = TimeContext::new(TimeZone::UTC, Timestamp::now());
    println!("system\tga_content\tga_raw\ttemplates_content\ttemplates_raw\ttrue_templates");
    let (mut sum_content, mut sum_raw, mut n) = (0.0, 0.0, 0);
    for system in SYSTEMS {
        let data = load(dir, system)?;
        let contents: Vec<(String, usize)> = data.contents.iter().map(|c| (c.clone(), 0)).collect();
        let (groups, count, texts) = mine(&config, &contents);
        let ga_content = grouping_accuracy(&data.truth, &groups);

        let sample: Vec<&str> = data.raw.iter().take(64).map(String::as_str).collect();
        let parser = Parser::with_format(Arc::from(system), ctx.clone(), Format::detect(&sample));
        let raw: Vec<(String, usize)> = data
            .raw
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let event = parser.event(RawLine {
                    offset: 0,
                    line_no: i as u64 + 1,
                    bytes: line.as_bytes().to_vec(),
                    truncated: false,
                    partial: false,
                });
                let start = message_start(&event.text);
                (event.text, start)
            })
            .collect();
        if raw.len() != data.truth.len() {
            return Err(format!(
                "{system}: {} raw lines, {} labelled",
                raw.len(),
                data.truth.len()
            )
            .into());
        }
        let (raw_groups, raw_count, raw_texts) = mine(&config, &raw);
        let ga_raw = grouping_accuracy(&data.truth, &raw_groups);
        let true_templates = data
            .truth
            .iter()
            .collect::<std::collections::HashSet<_>>()
            .len();
        println!("{system}\t{ga_content:.4}\t{ga_raw:.4}\t{count}\t{raw_count}\t{true_templates}");
        sum_content += ga_content;
        sum_raw += ga_raw;
        n += 1;
        if debug.as_deref() == Some(system) {
            explain(&data, &groups, &data.contents, &texts);
        }
        if debug_raw.as_deref() == Some(system) {
            let messages: Vec<String> = raw.iter().map(|(l, s)| l[*s..].to_owned()).collect();
            explain(&data, &raw_groups, &messages, &raw_texts);
        }
    }
    println!(
        "average\t{:.4}\t{:.4}",
        sum_content / f64::from(n),
        sum_raw / f64::from(n)
    );
    Ok(())
}

/// Prints the mined groups that are not exactly one true template.
fn explain(data: &Labelled, groups: &[u64], messages: &[String], texts: &HashMap<u64, String>) {
    let mut by_group: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, g) in groups.iter().enumerate() {
        by_group.entry(*g).or_default().push(i);
    }
    let mut true_size: HashMap<&str, usize> = HashMap::new();
    for t in &data.truth {
        *true_size.entry(t.as_str()).or_default() += 1;
    }
    let mut wrong: Vec<_> = by_group
        .values()
        .filter(|lines| {
            let first = &data.truth[lines[0]];
            !(lines.iter().all(|&i| &data.truth[i] == first)
                && true_size[first.as_str()] == lines.len())
        })
        .collect();
    wrong.sort_by_key(|lines| std::cmp::Reverse(lines.len()));
    for lines in wrong {
        let text = texts.get(&groups[lines[0]]).map_or("", String::as_str);
        let mut ids: HashMap<&str, usize> = HashMap::new();
        for &i in lines.iter() {
            *ids.entry(data.truth[i].as_str()).or_default() += 1;
        }
        println!("-- group of {} lines: {text}", lines.len());
        for (id, c) in ids {
            let i = lines
                .iter()
                .find(|&&i| data.truth[i] == id)
                .copied()
                .unwrap_or(0);
            println!(
                "   {c:4}/{:4} {id}: {}   | e.g. {}",
                true_size[id], data.templates[i], messages[i]
            );
        }
    }
}
