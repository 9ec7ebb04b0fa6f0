//! `triage check`: the shipped library, valid user files, and each invalid
//! fixture with the exact messages it must produce.

use crate::harness::{Triage, fixture};

#[test]
fn shipped_library_is_valid_and_every_example_passes() {
    let out = Triage::new().arg("check").run().code(0);
    assert!(out.stdout.contains("all valid"), "{}", out.stdout);
    assert_eq!(out.stderr, "");
}

#[test]
fn valid_user_files_pass_with_the_shipped_ones() {
    let out = Triage::new()
        .current_dir(fixture("valid"))
        .args(["check", "--patterns", "patterns", "--runbooks", "runbooks"])
        .run()
        .code(0);
    assert_eq!(out.stderr, "");
}

/// Each directory of `tests/fixtures/invalid/` holds `patterns/`, maybe
/// `runbooks/` (git keeps no empty directory), and `expected.stderr`:
/// exactly what `check` must print.
fn check_invalid(name: &str) {
    let dir = fixture("invalid").join(name);
    let mut args = vec!["check", "--patterns", "patterns"];
    if dir.join("runbooks").is_dir() {
        args.extend(["--runbooks", "runbooks"]);
    }
    let out = Triage::new().current_dir(&dir).args(args).run().code(1);
    let expected =
        std::fs::read_to_string(dir.join("expected.stderr")).expect("expected.stderr exists");
    assert_eq!(out.stderr, expected, "stderr of `check` on {name}");
}

#[test]
fn broken_regex_dangling_runbook_duplicate_id_and_toml_syntax_error() {
    check_invalid("four-problems");
}

#[test]
fn unknown_keys_missing_keys_and_bad_values() {
    check_invalid("keys-and-types");
}

#[test]
fn failing_and_missing_examples() {
    check_invalid("examples");
}

#[test]
fn runbook_parameters_and_placeholders() {
    check_invalid("runbook-params");
}

#[test]
fn a_user_signature_replaces_the_shipped_one_with_the_same_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shipped = Triage::new().args(["check"]).run().code(0);
    let count: usize = shipped
        .stdout
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("count");
    // Take a shipped id from `scan --json` of a line it matches.
    let hit = Triage::new()
        .args(["scan", "--json", "-"])
        .stdin("Nov 21 03:14:02 web-1 kernel: [812345.678901] Out of memory: Killed process 4321 (java) total-vm:8123456kB\n")
        .run()
        .code(0);
    let id = hit.json_lines()[0]["signature"]
        .as_str()
        .expect("id")
        .to_owned();
    std::fs::write(
        dir.path().join("mine.toml"),
        format!(
            "[[signature]]\nid = '{id}'\ntitle = 'Replaced'\nseverity = 'info'\ndescription = 'd'\nregex = 'never matches this: 42ab'\n\
             [[signature.example]]\nline = 'never matches this: 42ab'\n[[signature.example]]\nline = 'x'\nmatch = false\n"
        ),
    )
    .expect("write");
    let out = Triage::new()
        .arg("check")
        .arg("--patterns")
        .arg(dir.path())
        .run()
        .code(0);
    assert!(
        out.stdout
            .starts_with(&format!("checked {count} signatures")),
        "{}",
        out.stdout
    );
    Triage::new()
        .arg("--patterns")
        .arg(dir.path())
        .args(["scan", "-"])
        .stdin("Nov 21 03:14:02 web-1 kernel: Out of memory: Killed process 4321 (java)\n")
        .run()
        .code(1);
}
