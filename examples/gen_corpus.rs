//! Writes what `benches/compare.sh` measures with: a realistic generated log
//! corpus, the default library's regexes for `rg -f` / `grep -E -f`, and a
//! directory of synthetic signatures.
//!
//! ```text
//! cargo run --release --example gen_corpus -- corpus --size 600M --seed 1 --out DIR [--healthy]
//! cargo run --release --example gen_corpus -- regexes --rg FILE --grep FILE [--patterns DIR]
//! cargo run --release --example gen_corpus -- synthetic --count 500 --out DIR
//! ```

#[path = "../benches/support/corpus.rs"]
#[allow(dead_code, missing_docs)]
mod corpus;
#[path = "../benches/support/patterns.rs"]
#[allow(dead_code, missing_docs)]
mod patterns;

use std::{
    error::Error,
    fs,
    path::{Path, PathBuf},
    process::ExitCode,
};

fn usage() -> ExitCode {
    eprintln!(
        "usage: gen_corpus corpus --size SIZE [--seed N] [--healthy] --out DIR\n       \
         gen_corpus regexes --rg FILE [--grep FILE] [--patterns DIR]\n       \
         gen_corpus synthetic [--count N] --out DIR"
    );
    ExitCode::from(2)
}

/// `600M`, `50M`, `2G`, `1000000`.
fn parse_size(text: &str) -> Option<u64> {
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = digits.parse().ok()?;
    let mult = match unit {
        "" => 1,
        "K" | "k" => 1 << 10,
        "M" | "m" => 1 << 20,
        "G" | "g" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

struct Args {
    rest: Vec<String>,
}

impl Args {
    fn value(&mut self, name: &str) -> Option<String> {
        let i = self.rest.iter().position(|a| a == name)?;
        self.rest.remove(i);
        (i < self.rest.len()).then(|| self.rest.remove(i))
    }

    fn flag(&mut self, name: &str) -> bool {
        let found = self.rest.iter().position(|a| a == name);
        if let Some(i) = found {
            self.rest.remove(i);
        }
        found.is_some()
    }
}

fn main() -> ExitCode {
    let mut argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.is_empty() {
        return usage();
    }
    let command = argv.remove(0);
    let mut args = Args { rest: argv };
    let result: Result<(), Box<dyn Error>> = match command.as_str() {
        "corpus" => corpus_command(&mut args),
        "regexes" => regexes_command(&mut args),
        "synthetic" => synthetic_command(&mut args),
        _ => return usage(),
    };
    if !args.rest.is_empty() {
        eprintln!("gen_corpus: unexpected arguments: {:?}", args.rest);
        return usage();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gen_corpus: {err}");
            ExitCode::FAILURE
        }
    }
}

fn corpus_command(args: &mut Args) -> Result<(), Box<dyn Error>> {
    let size = args
        .value("--size")
        .map(|s| parse_size(&s).ok_or(format!("bad --size {s}")))
        .transpose()?
        .unwrap_or(600 << 20);
    let seed = args
        .value("--seed")
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1);
    let healthy = args.flag("--healthy");
    let out = PathBuf::from(args.value("--out").ok_or("--out DIR is required")?);
    let spec = corpus::Spec {
        total_bytes: size,
        seed,
        healthy,
    };
    let written = corpus::write_corpus(&out, &spec)?;
    for (path, bytes) in written {
        println!("{bytes}\t{}", path.display());
    }
    Ok(())
}

fn regexes_command(args: &mut Args) -> Result<(), Box<dyn Error>> {
    let rg = args.value("--rg").ok_or("--rg FILE is required")?;
    let grep = args.value("--grep");
    let user: Vec<PathBuf> = args
        .value("--patterns")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    let (library, diags) = triage::library::Library::load(&user, &[]);
    if let Some(diag) = diags.first() {
        return Err(format!("the library does not load: {diag}").into());
    }
    // Signatures triage raises itself (`new-problem`) match no line: left out.
    let regexes: Vec<&str> = library
        .signatures
        .iter()
        .filter(|s| !s.raised)
        .flat_map(|s| s.rule.patterns.iter().map(|p| p.regex.as_str()))
        .collect();
    // rg joins the regexes into one, where a capture name may appear once.
    let unnamed: Vec<String> = regexes
        .iter()
        .map(|r| patterns::strip_capture_names(r))
        .collect();
    write_lines(Path::new(&rg), unnamed.iter().map(String::as_str))?;
    let mut converted = 0;
    if let Some(grep) = grep {
        let ere: Vec<String> = regexes.iter().filter_map(|r| patterns::to_ere(r)).collect();
        converted = ere.len();
        write_lines(Path::new(&grep), ere.iter().map(String::as_str))?;
    }
    println!(
        "{} signatures, {} regexes, {} expressible as POSIX ERE",
        library.signatures.len(),
        regexes.len(),
        converted
    );
    Ok(())
}

fn synthetic_command(args: &mut Args) -> Result<(), Box<dyn Error>> {
    let count = args
        .value("--count")
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(500);
    let out = PathBuf::from(args.value("--out").ok_or("--out DIR is required")?);
    fs::create_dir_all(&out)?;
    fs::write(out.join("synthetic.toml"), patterns::synthetic_toml(count))?;
    Ok(())
}

fn write_lines<'a>(path: &Path, lines: impl Iterator<Item = &'a str>) -> std::io::Result<()> {
    let mut text = String::new();
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::{corpus::*, patterns::*};

    #[test]
    fn civil_dates_are_right() {
        let c = civil(START_SECOND);
        assert_eq!((c.year, c.month, c.day, c.hour), (2026, 11, 21, 0));
        let c = civil(START_SECOND + 86_399);
        assert_eq!((c.day, c.hour, c.minute, c.sec), (21, 23, 59, 59));
    }

    #[test]
    fn same_seed_same_bytes() {
        for (format, _, _) in FILES {
            let a = generate_vec(format, 200_000, 7, false);
            let b = generate_vec(format, 200_000, 7, false);
            assert_eq!(a, b);
            assert!(a.ends_with(b"\n"));
        }
    }

    #[test]
    fn ere_rewrites_rust_syntax() {
        assert_eq!(
            to_ere(r#"FATAL: +(?P<reason>sorry|remaining) \d{2,}"#).as_deref(),
            Some("FATAL: +(sorry|remaining) [0-9]{2,}")
        );
        assert_eq!(to_ere(r#"[^"]*\]"#).as_deref(), Some(r#"[^"]*\]"#));
        assert_eq!(to_ere(r"(?i:ab)").as_deref(), Some("[Aa][Bb]"));
        assert_eq!(
            to_ere(r"[A-Za-z0-9_.-]+").as_deref(),
            Some("[.0-9A-Z_a-z-]+")
        );
        assert_eq!(to_ere(r"\p{Greek}"), None);
    }

    #[test]
    fn capture_names_are_stripped() {
        assert_eq!(
            strip_capture_names(r"a(?P<x>b\(?P<y>)(?<z>c)"),
            r"a(?:b\(?P<y>)(?:c)"
        );
    }

    #[test]
    fn synthetic_regexes_are_distinct() {
        let all: std::collections::HashSet<String> = (0..500).map(synthetic_regex).collect();
        assert_eq!(all.len(), 500);
    }
}
