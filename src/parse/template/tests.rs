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
