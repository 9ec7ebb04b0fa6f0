//! `triage demo`: a deterministic incident written to disk and detected.

use std::{collections::BTreeMap, fs, path::Path};

use crate::harness::Triage;

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            for (name, bytes) in files(&path) {
                out.insert(
                    format!(
                        "{}/{name}",
                        path.file_name().expect("name").to_string_lossy()
                    ),
                    bytes,
                );
            }
        } else {
            out.insert(
                path.file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned(),
                fs::read(&path).expect("read"),
            );
        }
    }
    out
}

#[test]
fn demo_detects_the_cascade_with_runbooks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = Triage::new()
        .args(["demo", "--seed", "7", "--dir"])
        .arg(tmp.path())
        .run()
        .code(0);
    let written = files(tmp.path());
    assert!(written.len() >= 5, "{:?}", written.keys());
    assert!(out.stdout.starts_with(&format!(
        "Wrote a demo incident to {}",
        tmp.path().display()
    )));
    // The cascade, in the order it happened: database connections run out,
    // the app's pool times out, nginx sees upstream timeouts, the JVM runs
    // out of heap, the kernel's OOM killer ends it.
    let fired: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| {
            ["low ", "medium ", "high ", "critical "]
                .iter()
                .any(|s| l.starts_with(s))
        })
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    let first = |id: &str| {
        fired
            .iter()
            .position(|f| *f == id)
            .unwrap_or_else(|| panic!("`{id}` did not fire: {fired:?}"))
    };
    let cascade = [
        "postgres-connection-slots-exhausted",
        "jdbc-pool-exhausted",
        "nginx-upstream-timeout",
        "jvm-heap-oom",
        "linux-oom-killer",
    ];
    for pair in cascade.windows(2) {
        assert!(
            first(pair[0]) < first(pair[1]),
            "{} fired after {}: {fired:?}",
            pair[0],
            pair[1]
        );
    }
    assert!(out.stdout.contains("runbook: "));
    assert!(out.stdout.contains("$ "), "runbook commands are shown");
    assert!(out.stdout.contains("SIGNATURE"), "summary table");
}

#[test]
fn demo_is_deterministic_by_seed() {
    let (a, b, c) = (
        tempfile::tempdir(),
        tempfile::tempdir(),
        tempfile::tempdir(),
    );
    let (a, b, c) = (
        a.expect("tempdir"),
        b.expect("tempdir"),
        c.expect("tempdir"),
    );
    for (dir, seed) in [(&a, "3"), (&b, "3"), (&c, "4")] {
        Triage::new()
            .args(["demo", "--seed", seed, "--dir"])
            .arg(dir.path())
            .run()
            .code(0);
    }
    assert!(files(a.path()) == files(b.path()), "same seed, same logs");
    assert!(
        files(a.path()) != files(c.path()),
        "another seed, other logs"
    );
}

#[test]
fn demo_refuses_a_directory_that_is_not_empty() {
    let tmp = tempfile::tempdir().expect("tempdir");
    fs::write(tmp.path().join("keep.txt"), "mine").expect("write");
    let out = Triage::new()
        .args(["demo", "--dir"])
        .arg(tmp.path())
        .run()
        .code(2);
    assert!(out.stderr.contains("not empty"), "{}", out.stderr);
    assert_eq!(
        fs::read_to_string(tmp.path().join("keep.txt")).expect("read"),
        "mine"
    );
}
