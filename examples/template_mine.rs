//! Mines the templates of log files on one thread and prints how fast:
//! what `benches/compare.sh` runs next to logpai's Drain on the same file.
//!
//! ```text
//! cargo run --release --example template_mine -- FILE... [--top N]
//! ```
//!
//! The files are read 4 MiB at a time; each line (split at `\n`, a `\r`
//! before it dropped, cut at 1 MiB, invalid UTF-8 replaced) goes
//! through [`message_start`] and [`Miner::add`] with the default bounds.
//! Prints one tab-separated line: `lines`, `bytes`, `seconds` (mining, not
//! counting reading), `lines_per_s`, `mb_per_s`, `templates`,
//! `held_bytes`; then, with `--top N`, the N largest templates.

use std::{
    error::Error,
    fs::File,
    io::Read,
    process::ExitCode,
    sync::Arc,
    time::{Duration, Instant},
};

use triage::parse::template::{Miner, Occurrence, message_start};

/// Lines longer than this are cut, as the tailer cuts them.
const LINE_CAP: usize = 1 << 20;

/// Bytes read at a time.
const BLOCK: usize = 4 << 20;

fn floor(text: &str, max: usize) -> usize {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("template_mine: {err}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let top = match args.iter().position(|a| a == "--top") {
        Some(i) => {
            args.remove(i);
            if i < args.len() {
                args.remove(i).parse()?
            } else {
                10
            }
        }
        None => 0,
    };
    if args.is_empty() {
        return Err("usage: template_mine FILE... [--top N]".into());
    }
    let mut miner = Miner::default();
    let (mut lines, mut bytes, mut spent) = (0u64, 0u64, Duration::ZERO);
    let mut block = vec![0u8; BLOCK];
    let mut carry: Vec<u8> = Vec::new();
    for path in &args {
        let source: Arc<str> = Arc::from(path.as_str());
        let mut file = File::open(path)?;
        let mut offset = 0u64;
        loop {
            let n = file.read(&mut block)?;
            // The lines of this block (with what the last one left), all
            // but an unfinished last line; all of it at the end.
            carry.extend_from_slice(&block[..n]);
            let end = if n == 0 {
                carry.len()
            } else {
                match carry.iter().rposition(|&b| b == b'\n') {
                    Some(i) => i + 1,
                    None => continue,
                }
            };
            let text = String::from_utf8_lossy(&carry[..end]).into_owned();
            let start = Instant::now();
            for raw in text.split_inclusive('\n') {
                let len = raw.len() as u64;
                let line = raw.strip_suffix('\n').unwrap_or(raw);
                let line = line.strip_suffix('\r').unwrap_or(line);
                let line = &line[..floor(line, LINE_CAP)];
                lines += 1;
                miner.add(&Occurrence {
                    line,
                    message: &line[message_start(line)..],
                    source: &source,
                    line_no: lines,
                    offset,
                    ts: None,
                    level: None,
                });
                offset += len;
                bytes += len;
            }
            spent += start.elapsed();
            carry.drain(..end);
            if n == 0 {
                break;
            }
        }
    }
    let secs = spent.as_secs_f64().max(1e-9);
    println!("lines\tbytes\tseconds\tlines_per_s\tmb_per_s\ttemplates\theld_bytes");
    println!(
        "{lines}\t{bytes}\t{secs:.3}\t{:.0}\t{:.1}\t{}\t{}",
        lines as f64 / secs,
        bytes as f64 / secs / 1e6,
        miner.len(),
        miner.held_bytes()
    );
    let mut templates: Vec<_> = miner.templates().collect();
    templates.sort_by_key(|t| std::cmp::Reverse(t.count()));
    for t in templates.into_iter().take(top) {
        println!("{}\t{}\t{}", t.id(), t.count(), t.text());
    }
    Ok(())
}
