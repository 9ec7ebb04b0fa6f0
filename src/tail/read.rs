//! One pass over a log file from start to end: plain, gzip (recognised by its
//! magic bytes, whatever the name) or standard input.
//!
//! Offsets and line numbers are those of the decompressed stream. A read
//! error stops that input only: every line read before it has already been
//! handed on.

use std::{
    fmt,
    fs::File,
    io::{self, BufRead, BufReader, Read},
    path::{Path, PathBuf},
};

use flate2::bufread::MultiGzDecoder;

use super::split::LineSplitter;
use crate::model::RawLine;

/// How much is read at a time.
const CHUNK: usize = 256 * 1024;

/// Something to read lines from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input, written `-`.
    Stdin,
    /// A file.
    Path(PathBuf),
}

impl Input {
    /// `-` is standard input; anything else a path.
    pub fn from_arg(arg: &Path) -> Input {
        if arg == Path::new("-") {
            Input::Stdin
        } else {
            Input::Path(arg.to_path_buf())
        }
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Stdin => f.write_str("-"),
            Input::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Reads every line of `input`, in order, capping each at `max_line` bytes.
pub fn read_lines(input: &Input, max_line: usize, mut emit: impl FnMut(RawLine)) -> io::Result<()> {
    let reader: Box<dyn BufRead> = match input {
        Input::Stdin => Box::new(BufReader::with_capacity(CHUNK, io::stdin().lock())),
        Input::Path(path) => {
            let file = File::open(path)?;
            if file.metadata()?.is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "is a directory",
                ));
            }
            Box::new(BufReader::with_capacity(CHUNK, file))
        }
    };
    let mut reader = decompress(reader)?;
    let mut splitter = LineSplitter::new(max_line);
    let mut buf = vec![0; CHUNK];
    let result = loop {
        match reader.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => splitter.push(&buf[..n], &mut emit),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => break Err(err),
        }
    };
    splitter.finish(&mut emit);
    result
}

/// Wraps the reader in a gzip decoder when the stream starts with gzip's magic
/// bytes.
fn decompress(mut reader: Box<dyn BufRead>) -> io::Result<Box<dyn Read>> {
    let head = reader.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(MultiGzDecoder::new(reader)))
    } else {
        Ok(reader)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    fn lines_of(path: &Path) -> Vec<(u64, u64, Vec<u8>)> {
        let mut out = Vec::new();
        read_lines(&Input::Path(path.to_path_buf()), 1 << 20, |l| {
            out.push((l.offset, l.line_no, l.bytes));
        })
        .expect("readable");
        out
    }

    #[test]
    fn gzip_is_read_by_content_with_decompressed_offsets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let plain = dir.path().join("a.log");
        let gz = dir.path().join("a.log.1");
        let text = b"first\nsecond line\r\nthird";
        std::fs::write(&plain, text).expect("write");
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(text).expect("compress");
        std::fs::write(&gz, enc.finish().expect("compress")).expect("write");
        assert_eq!(lines_of(&plain), lines_of(&gz));
        assert_eq!(lines_of(&gz)[1], (6, 2, b"second line".to_vec()));
    }

    #[test]
    fn a_directory_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = read_lines(&Input::Path(dir.path().to_path_buf()), 10, |_| {}).expect_err("dir");
        assert_eq!(err.to_string(), "is a directory");
    }

    #[test]
    fn corrupt_gzip_keeps_lines_read_before_the_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.gz");
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        for i in 0..20_000 {
            writeln!(enc, "line {i}").expect("compress");
        }
        let mut bytes = enc.finish().expect("compress");
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&path, bytes).expect("write");
        let mut count = 0;
        let result = read_lines(&Input::Path(path), 1 << 20, |_| count += 1);
        assert!(result.is_err());
        assert!(count > 0);
    }
}
