//! The shipped library on real lines: each fixture of `tests/fixtures/real/`
//! (excerpts of public logs, with their licence) scanned by the real binary
//! fires exactly the signatures its system's failures should, and a healthy
//! log fires none; `check --coverage` reports the families and loose ends.

use std::collections::BTreeSet;

use crate::harness::{Triage, fixture};

/// The signatures `triage scan --json` alerts on for one file.
fn fired(name: &str) -> BTreeSet<String> {
    let path = fixture("real").join(name);
    let out = Triage::new()
        .args(["scan", "--json", "--timezone", "UTC"])
        .arg(&path)
        .run();
    assert!(out.code == 0 || out.code == 1, "{}", out.stderr);
    out.json_lines()
        .iter()
        .filter(|object| object["kind"] == "alert")
        .map(|alert| alert["signature"].as_str().expect("signature").to_owned())
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn zookeeper_quorum_trouble_from_loghub() {
    assert_eq!(
        fired("zookeeper.log"),
        set(&[
            "zookeeper-learner-dropped",
            "zookeeper-quorum-connection-broken"
        ])
    );
}

#[test]
fn hadoop_job_losing_namenode_and_resourcemanager_from_loghub() {
    assert_eq!(
        fired("hadoop.log"),
        set(&[
            "hadoop-ipc-retrying-connect",
            "hdfs-lease-renewal-failing",
            "hdfs-write-pipeline-errors",
            "yarn-am-cannot-reach-rm",
        ])
    );
}

#[test]
fn ssh_password_guessing_from_loghub_is_keyed_by_address() {
    assert_eq!(
        fired("openssh.log"),
        set(&["pam-auth-failures", "ssh-brute-force", "ssh-invalid-users"])
    );
    let out = Triage::new()
        .args(["scan", "--json", "--timezone", "UTC"])
        .arg(fixture("real").join("openssh.log"))
        .run();
    let addresses: BTreeSet<String> = out
        .json_lines()
        .iter()
        .filter(|a| a["signature"] == "ssh-brute-force")
        .map(|a| {
            a["captures"]["address"]
                .as_str()
                .expect("address")
                .to_owned()
        })
        .collect();
    assert!(!addresses.is_empty());
    // Every brute-force alert names the attacking address it counted.
    assert!(
        addresses
            .iter()
            .all(|a| a.parse::<std::net::IpAddr>().is_ok()),
        "{addresses:?}"
    );
}

#[test]
fn older_linux_pam_wording_from_loghub() {
    assert_eq!(fired("linux-pam.log"), set(&["pam-auth-failures"]));
}

#[test]
fn a_healthy_spark_executor_fires_nothing() {
    assert_eq!(fired("spark-healthy.log"), set(&[]));
}

#[test]
fn coverage_lists_the_families_and_no_loose_ends() {
    let out = Triage::new().args(["check", "--coverage"]).run().code(0);
    for family in [
        "kafka",
        "zookeeper",
        "hadoop",
        "spark",
        "elasticsearch",
        "cassandra",
        "mongodb",
        "rabbitmq",
        "etcd",
        "consul",
        "docker",
        "kubernetes",
        "haproxy",
        "envoy",
        "traefik",
        "caddy",
        "apache",
        "tomcat",
        "nodejs",
        "dotnet",
        "auth",
        "boot",
        "ci",
        "dns-tls",
        "patroni",
        "mysql-group-replication",
    ] {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{family} "))),
            "family {family} missing from:\n{}",
            out.stdout
        );
    }
    assert!(
        out.stdout
            .contains("signatures without a runbook (0): none"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("runbooks no signature links to (0): none"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("signatures per severity: critical "),
        "{}",
        out.stdout
    );
}
