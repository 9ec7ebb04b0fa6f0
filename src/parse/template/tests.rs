//! Unit tests of the miner on small hand-made inputs.

use std::sync::Arc;

use super::*;

fn mine(lines: &[&str]) -> (Miner, Vec<TemplateRef>) {
    let mut miner = Miner::default();
    let source: Arc<str> = Arc::from("t.log");
    let refs = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            miner
                .add(&Occurrence {
                    line,
                    message: line,
                    source: &source,
                    line_no: i as u64 + 1,
                    offset: 0,
                    ts: None,
                    level: None,
                })
                .template
        })
        .collect();
    (miner, refs)
}

#[test]
fn similar_lines_share_a_template() {
    let (miner, refs) = mine(&[
        "session opened for user root by (uid=0)",
        "session opened for user news by (uid=0)",
        "connection from 10.1.2.3 port 22",
        "session opened for user cyrus by (uid=12)",
    ]);
    assert_eq!(miner.current(refs[0]), miner.current(refs[1]));
    assert_eq!(miner.current(refs[0]), miner.current(refs[3]));
    assert_ne!(miner.current(refs[0]), miner.current(refs[2]));
    let t = miner.get(refs[0]).expect("kept");
    assert_eq!(t.text(), "session opened for user <*> by (uid=<*>)");
    assert_eq!(t.count(), 3);
}

/// Groups of 1-based line numbers, each sorted, sorted by first line.
fn groups_of(lines: &str) -> (Miner, Vec<Vec<usize>>) {
    let mut miner = Miner::default();
    let source: Arc<str> = Arc::from("fixture");
    let refs: Vec<TemplateRef> = lines
        .lines()
        .enumerate()
        .map(|(i, line)| {
            miner
                .add(&Occurrence {
                    line,
                    message: &line[message_start(line)..],
                    source: &source,
                    line_no: i as u64 + 1,
                    offset: 0,
                    ts: None,
                    level: None,
                })
                .template
        })
        .collect();
    let mut by: Vec<(TemplateId, Vec<usize>)> = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        let id = miner.get(*r).expect("kept").id();
        match by.iter_mut().find(|(g, _)| *g == id) {
            Some((_, v)) => v.push(i + 1),
            None => by.push((id, vec![i + 1])),
        }
    }
    (miner, by.into_iter().map(|(_, v)| v).collect())
}

/// The groups Loghub's labels give, in the same form.
fn label_groups(events: &str) -> Vec<Vec<usize>> {
    let mut by: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, e) in events.lines().enumerate() {
        match by.iter_mut().find(|(g, _)| *g == e) {
            Some((_, v)) => v.push(i + 1),
            None => by.push((e, vec![i + 1])),
        }
    }
    by.into_iter().map(|(_, v)| v).collect()
}

#[test]
fn openssh_lines_group_as_loghub_labels_them() {
    let (miner, groups) = groups_of(include_str!(
        "../../../tests/fixtures/loghub/OpenSSH_head.log"
    ));
    let labels = label_groups(include_str!(
        "../../../tests/fixtures/loghub/OpenSSH_head.events"
    ));
    assert_eq!(groups, labels);
    let texts: Vec<&str> = miner.templates().map(Template::text).collect();
    for expected in [
        "Invalid user <*> from <*>",
        "input_userauth_request: invalid user <*> [preauth]",
        "pam_unix(sshd:auth): check pass; user unknown",
        "reverse mapping checking getaddrinfo for <*> [<*>] failed - POSSIBLE BREAK-IN ATTEMPT!",
    ] {
        assert!(texts.contains(&expected), "{expected:?} not in {texts:#?}");
    }
}

#[test]
fn linux_lines_group_as_loghub_labels_them_but_two_user_names() {
    let (miner, groups) = groups_of(include_str!(
        "../../../tests/fixtures/loghub/Linux_head.log"
    ));
    let mut labels = label_groups(include_str!(
        "../../../tests/fixtures/loghub/Linux_head.events"
    ));
    // Loghub has one template for `session opened/closed for user <*>`;
    // with only two user names seen (`cyrus`, `news`), a word turns into
    // `<*>` only after three distinct ones, so each name keeps its own.
    for group in [vec![14, 17], vec![15, 18]] {
        let at = labels
            .iter()
            .position(|g| *g == group)
            .expect("label group");
        labels.remove(at);
        labels.push(vec![group[0]]);
        labels.push(vec![group[1]]);
    }
    labels.sort();
    let mut groups = groups;
    groups.sort();
    assert_eq!(groups, labels);
    let texts: Vec<&str> = miner.templates().map(Template::text).collect();
    assert!(
        texts.contains(
            &"authentication failure; logname= uid=<*> euid=<*> tty=NODEVssh ruser= rhost=<*>"
        ),
        "{texts:#?}"
    );
}

fn small() -> Config {
    Config {
        max_templates: 50,
        max_bytes: 256 << 10,
        ..Config::default()
    }
}

fn add_line(miner: &mut Miner, line: &str, n: u64) -> Assigned {
    let source: Arc<str> = Arc::from("p");
    miner.add(&Occurrence {
        line,
        message: &line[message_start(line)..],
        source: &source,
        line_no: n,
        offset: 0,
        ts: None,
        level: None,
    })
}

#[test]
fn every_line_unique_keeps_memory_bounded() {
    let mut miner = Miner::new(small());
    for n in 0..20_000u64 {
        // Words, not numbers: nothing to mask, every line its own shape.
        let word: String = format!("{n:x}")
            .bytes()
            .map(|b| (b'g' + b % 16) as char)
            .collect();
        let line = format!("{word} happened to {word}x in {word}y");
        add_line(&mut miner, &line, n);
        assert!(miner.len() <= 50);
        assert!(miner.held_bytes() <= 256 << 10);
    }
    // Each line compared with at most MAX_CANDIDATES templates, twice.
    assert!(miner.comparisons() <= 20_000 * 2 * MAX_CANDIDATES as u64);
}

#[test]
fn huge_lines_keep_memory_bounded() {
    let mut miner = Miner::new(small());
    let word = "x".repeat(1 << 20);
    let spaced = "ab ".repeat(1 << 18);
    for n in 0..20u64 {
        add_line(&mut miner, &format!("{word}{n}"), n);
        add_line(&mut miner, &format!("{spaced}{n}"), n);
    }
    assert!(miner.held_bytes() <= 256 << 10);
    for t in miner.templates() {
        assert!(t.tokens().count() <= token::MAX_TOKENS);
        assert!(t.text().len() <= token::MAX_TOKENS * (token::MAX_TOKEN_LEN + 1));
        assert!(t.examples().iter().all(|(l, _)| l.len() <= 512));
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn junk_never_panics_and_stays_within_bounds(
            lines in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..400), 1..200),
        ) {
            let mut miner = Miner::new(Config { max_templates: 20, max_bytes: 64 << 10, ..Config::default() });
            for (n, bytes) in lines.iter().enumerate() {
                let line = String::from_utf8_lossy(bytes);
                let assigned = add_line(&mut miner, &line, n as u64);
                let t = miner.get(assigned.template).expect("the line's template is kept");
                prop_assert_eq!(t.id(), assigned.id);
                prop_assert!(miner.len() <= 20);
                prop_assert!(miner.held_bytes() <= 64 << 10);
            }
            prop_assert!(miner.comparisons() <= lines.len() as u64 * 2 * MAX_CANDIDATES as u64);
        }

        #[test]
        fn same_input_same_ids(
            lines in proptest::collection::vec("[a-c]{1,3}( [a-c0-9]{1,3}){0,4}", 1..60),
        ) {
            let ids = |lines: &[String]| {
                let mut miner = Miner::default();
                for (n, l) in lines.iter().enumerate() {
                    add_line(&mut miner, l, n as u64);
                }
                let mut ids: Vec<(String, TemplateId)> = miner.templates().map(|t| (t.text().to_owned(), t.id())).collect();
                ids.sort();
                ids
            };
            let first = ids(&lines);
            prop_assert_eq!(&first, &ids(&lines));
            for (text, id) in first {
                prop_assert_eq!(id, TemplateId::of_text(&text));
            }
        }
    }
}
