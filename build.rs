//! Embeds the shipped `patterns/*.toml` and `runbooks/*.toml` into the binary.
//!
//! Generates `$OUT_DIR/embedded.rs` with two sorted tables of
//! `(relative path, contents)`, so `triage` works from any directory with no
//! set-up. Cargo re-runs this script when a file in either folder changes.

use std::{env, fs, io, path::Path};

fn main() -> io::Result<()> {
    let root = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let mut code = String::new();
    for (name, dir) in [("PATTERNS", "patterns"), ("RUNBOOKS", "runbooks")] {
        let dir_path = Path::new(&root).join(dir);
        println!("cargo::rerun-if-changed={}", dir_path.display());
        let mut files: Vec<_> = fs::read_dir(&dir_path)?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
            .collect();
        files.sort();
        code.push_str(&format!("pub static {name}: &[(&str, &str)] = &[\n"));
        for file in files {
            let file_name = file
                .file_name()
                .and_then(|n| n.to_str())
                .expect("shipped file names are UTF-8");
            code.push_str(&format!(
                "    ({:?}, include_str!({:?})),\n",
                format!("{dir}/{file_name}"),
                file.display().to_string()
            ));
        }
        code.push_str("];\n");
    }
    fs::write(Path::new(&out).join("embedded.rs"), code)
}
