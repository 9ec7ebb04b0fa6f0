//! One pass over a log file from start to end: plain, gzip, bzip2 or zstd
//! (each recognised by its magic bytes, whatever the name) or standard input.
//! Concatenated members (several gzip members, bzip2 streams or zstd frames
//! in one file, as `cat a.gz b.gz` makes) are read as one stream.
//!
//! Two ways to read: [`read_lines`] hands on one line at a time (cut by
//! [`LineSplitter`]); [`read_blocks_from`] hands on blocks of many whole lines, so
//! a scan can search all of them at once and look at single lines only where
//! something may match. Both cut lines the same way (LF, CRLF or a bare CR;
//! a CRLF split across reads is one terminator; a line longer than the cap
//! keeps its first part and is marked truncated) and number them the same.
//!
//! Offsets and line numbers are those of the decompressed stream. A read
//! error stops that input only: every line read before it has already been
//! handed on.
//!
//! [`read_tail`] reads only the end of a plain file (the console's first
//! screen): its last bytes from the first line that starts in them, with
//! that line's offset; [`Tail::lines`] cuts them as the other two do.

use std::{
    fmt,
    fs::File,
    io::{self, BufRead, BufReader, Read, Seek, SeekFrom},
    path::{Path, PathBuf},
};

use bzip2::bufread::MultiBzDecoder;
use flate2::bufread::MultiGzDecoder;
use memchr::{memchr, memchr_iter, memchr2, memchr2_iter, memrchr2};

use super::{
    checkpoint::Fingerprint, discover::FileKey, follow::FINGERPRINT_BYTES, split::LineSplitter,
};
use crate::model::RawLine;

/// How much is read at a time.
const CHUNK: usize = 256 * 1024;
/// The block buffer: big enough that a search over it costs little per
/// byte, small enough to stay in a core's second-level cache while the
/// scan's searches pass over it one after the other (2 MiB blocks: 5% slower
/// on the benchmark corpus, 2026-12-05). A line longer than a block grows
/// the buffer up to the line cap.
pub const BLOCK: usize = 512 << 10;

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

/// Opens `input` for reading, decompressing gzip, bzip2 and zstd. The reader may be moved
/// to another thread.
pub fn open(input: &Input) -> io::Result<Box<dyn Read + Send>> {
    let reader: Box<dyn BufRead + Send> = match input {
        Input::Stdin => Box::new(BufReader::with_capacity(CHUNK, io::stdin())),
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
    decompress(reader)
}

/// Reads every line of `input`, in order, capping each at `max_line` bytes.
pub fn read_lines(input: &Input, max_line: usize, emit: impl FnMut(RawLine)) -> io::Result<()> {
    read_lines_from(open(input)?, max_line, emit)
}

/// [`read_lines`] from a reader already open.
pub fn read_lines_from(
    mut reader: impl Read,
    max_line: usize,
    mut emit: impl FnMut(RawLine),
) -> io::Result<()> {
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

/// A stream read again from its start after [`sample`] took its first bytes.
pub type Sampled<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// The first `limit` bytes of `reader` (fewer at its end; for a live pipe,
/// `fill` false, what the reads give until the first line ends, so a
/// profile is never decided from no complete line while more may come),
/// whether that is all of it, and a reader of the whole stream again (those
/// bytes, then the rest).
pub fn sample<R: Read>(
    mut reader: R,
    limit: usize,
    fill: bool,
) -> io::Result<(Vec<u8>, bool, Sampled<R>)> {
    let mut head = vec![0; limit];
    let mut len = 0;
    let mut whole = false;
    while len < limit {
        match reader.read(&mut head[len..]) {
            Ok(0) => {
                whole = true;
                break;
            }
            Ok(n) => {
                if !fill && memchr2(b'\n', b'\r', &head[len..len + n]).is_some() {
                    len += n;
                    break;
                }
                len += n;
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    head.truncate(len);
    let again = io::Cursor::new(head.clone()).chain(reader);
    Ok((head, whole, again))
}

/// gzip's magic bytes.
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
/// bzip2's: `BZh` and the block size, `1` to `9`.
const BZIP2_MAGIC: &[u8] = b"BZh";
/// A zstd frame's magic number (little endian 0xFD2FB528).
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// Wraps the reader in a decoder when the stream starts with the magic bytes
/// of gzip, bzip2 or zstd.
pub fn decompress(mut reader: Box<dyn BufRead + Send>) -> io::Result<Box<dyn Read + Send>> {
    let head = reader.fill_buf()?;
    if !is_compressed(head) {
        Ok(reader)
    } else if head.starts_with(GZIP_MAGIC) {
        Ok(Box::new(MultiGzDecoder::new(reader)))
    } else if head.starts_with(BZIP2_MAGIC)
        && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b))
    {
        Ok(Box::new(MultiBzDecoder::new(reader)))
    } else if head.starts_with(ZSTD_MAGIC) {
        Ok(Box::new(ZstdFrames::new(reader)?))
    } else {
        Ok(reader)
    }
}

/// A zstd stream of one or more frames (ruzstd decodes one frame at a time).
struct ZstdFrames<R> {
    source: R,
    frame: ruzstd::decoding::FrameDecoder,
}

impl<R: BufRead> ZstdFrames<R> {
    fn new(mut source: R) -> io::Result<ZstdFrames<R>> {
        let mut frame = ruzstd::decoding::FrameDecoder::new();
        frame.init(&mut source).map_err(zstd_error)?;
        Ok(ZstdFrames { source, frame })
    }
}

fn zstd_error(err: impl fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {err}"))
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.frame.can_collect() > 0 {
                return self.frame.read(buf);
            }
            if !self.frame.is_finished() {
                self.frame
                    .decode_blocks(
                        &mut self.source,
                        ruzstd::decoding::BlockDecodingStrategy::UptoBlocks(1),
                    )
                    .map_err(zstd_error)?;
                continue;
            }
            // This frame is done: another may follow.
            if self.source.fill_buf()?.is_empty() {
                return Ok(0);
            }
            self.frame.reset(&mut self.source).map_err(zstd_error)?;
        }
    }
}

/// What a file is on disk: its identity, size and first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// Device and inode.
    pub key: FileKey,
    /// Size in bytes (compressed, for an archive).
    pub len: u64,
    /// Its content's first bytes (up to [`FINGERPRINT_BYTES`], decompressed
    /// for an archive), hashed: tells this file from another that got the
    /// same inode later, and an archive from the file it was compressed
    /// from.
    pub fingerprint: Fingerprint,
    /// It is gzip, bzip2 or zstd.
    pub compressed: bool,
    /// When it was last written.
    pub modified: Option<std::time::SystemTime>,
}

/// The identity of the file at `path` (a symlink's target).
pub fn identify(path: &Path) -> io::Result<Identity> {
    identify_with_head(path).map(|(id, _)| id)
}

/// The identity of the file at `path` and the first bytes of its content
/// (up to [`FINGERPRINT_BYTES`], decompressed) its fingerprint was taken
/// of: [`Fingerprint::is_prefix_of`] them tells which records are of this
/// content without opening the file again for each.
pub fn identify_with_head(path: &Path) -> io::Result<(Identity, Vec<u8>)> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "is a directory",
        ));
    }
    let mut reader = BufReader::new(file);
    let compressed = is_compressed(reader.fill_buf()?);
    let head = content_prefix(decompress(Box::new(reader))?, FINGERPRINT_BYTES)?;
    let id = Identity {
        key: FileKey::of(&meta),
        len: meta.len(),
        fingerprint: Fingerprint::of(&head),
        compressed,
        modified: meta.modified().ok(),
    };
    Ok((id, head))
}

/// The first bytes of the content of the file at `path` (up to
/// [`FINGERPRINT_BYTES`], decompressed).
pub fn content_head(path: &Path) -> io::Result<Vec<u8>> {
    content_prefix(open(&Input::Path(path.to_path_buf()))?, FINGERPRINT_BYTES)
}

/// Whether the content of the file at `path` (decompressed) starts with
/// the bytes `fingerprint` was taken of: the same content as when it was
/// taken, however much was added since.
pub fn content_starts_with(path: &Path, fingerprint: Fingerprint) -> io::Result<bool> {
    let head = content_prefix(
        open(&Input::Path(path.to_path_buf()))?,
        fingerprint.len as usize,
    )?;
    Ok(head.len() == fingerprint.len as usize && Fingerprint::of(&head) == fingerprint)
}

/// Up to `len` first bytes of `reader`.
fn content_prefix(reader: impl Read, len: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(len);
    match reader.take(len as u64).read_to_end(&mut head) {
        Ok(_) => Ok(head),
        // A damaged archive: what could be read of it.
        Err(err) if err.kind() == io::ErrorKind::InvalidData => Ok(head),
        Err(err) => Err(err),
    }
}

/// Whether `head`, a file's first bytes, starts like a gzip, bzip2 or zstd
/// stream.
pub fn is_compressed(head: &[u8]) -> bool {
    head.starts_with(GZIP_MAGIC)
        || (head.starts_with(BZIP2_MAGIC) && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b)))
        || head.starts_with(ZSTD_MAGIC)
}

/// The end of a plain file, as [`read_tail`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail {
    /// Offset of the first byte of `bytes`: the start of a line.
    pub offset: u64,
    /// The 1-based number of that line, when known (the tail is the whole
    /// file); `None` when counting would mean reading all that comes
    /// before.
    pub line_no: Option<u64>,
    /// From the first line that starts in the last bytes read to the end
    /// of the file as it was when read (its last line may be partial).
    pub bytes: Vec<u8>,
}

impl Tail {
    /// The tail's lines, cut as [`read_lines`] cuts them (LF, CRLF or a bare
    /// CR; longer than `max_line` truncated). Their line numbers are 0 when
    /// the tail's first line number is not known.
    pub fn lines(&self, max_line: usize, mut emit: impl FnMut(RawLine)) {
        let known = self.line_no.is_some();
        let mut splitter = LineSplitter::resume(self.offset, self.line_no.unwrap_or(1), max_line);
        let mut emit = |mut line: RawLine| {
            if !known {
                line.line_no = 0;
            }
            emit(line);
        };
        splitter.push(&self.bytes, &mut emit);
        splitter.finish(&mut emit);
    }
}

/// The last `max_bytes` bytes of the plain file at `path` (read-only, one
/// seek, one read), from the first line that starts in them: a line cut
/// by the start of the window is left out. `None` for a gzip file (only a
/// pass from its start can read it). A file that grows meanwhile is read
/// up to the length it had when opened.
pub fn read_tail(path: &Path, max_bytes: u64) -> io::Result<Option<Tail>> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "is a directory",
        ));
    }
    let len = meta.len();
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match file.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    if got == 2 && magic == [0x1f, 0x8b] {
        return Ok(None);
    }
    if len <= max_bytes {
        file.seek(SeekFrom::Start(0))?;
        let mut bytes = Vec::with_capacity(len as usize);
        file.take(len).read_to_end(&mut bytes)?;
        return Ok(Some(Tail {
            offset: 0,
            line_no: Some(1),
            bytes,
        }));
    }
    // One byte more than asked, before the window: it tells whether the
    // window starts a line.
    let start = len - max_bytes - 1;
    file.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::with_capacity(max_bytes as usize + 1);
    file.take(max_bytes + 1).read_to_end(&mut buf)?;
    let Some(first) = first_line_start(&buf) else {
        return Ok(Some(Tail {
            offset: start + buf.len() as u64,
            line_no: None,
            bytes: Vec::new(),
        }));
    };
    Ok(Some(Tail {
        offset: start + first as u64,
        line_no: None,
        bytes: buf.split_off(first),
    }))
}

/// Where the first line that starts after `buf[0]` starts: after the first
/// terminator (LF, CRLF or a bare CR) at or after index 0; `None` when no
/// terminator ends in `buf` (a CR as the last byte may be half a CRLF).
fn first_line_start(buf: &[u8]) -> Option<usize> {
    let at = memchr2(b'\n', b'\r', buf)?;
    match (buf[at], buf.get(at + 1)) {
        (b'\r', Some(b'\n')) => Some(at + 2),
        (b'\r', None) => None,
        _ => Some(at + 1),
    }
}

/// Whole lines read from a stream, many at once. It owns its buffer, so it
/// can be handed to another thread; the buffer can be given back to the
/// reader (see [`read_blocks_from`]'s `spare`).
#[derive(Debug)]
pub struct Block {
    /// The buffer; the block is its first `len` bytes.
    pub data: Vec<u8>,
    /// How many bytes of `data` the block holds.
    pub len: usize,
    /// Stream offset of the block's first byte, the first byte of a line.
    pub offset: u64,
    /// Line number of the first line.
    pub line_no: u64,
    /// The stream ends with this block, and its last line has no terminator.
    pub partial_end: bool,
}

impl Block {
    /// Whole lines, each with its terminator; at the end of the stream the
    /// last line may have none (it is then partial).
    pub fn bytes(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

/// What [`read_blocks_from`] hands on, in stream order.
#[derive(Debug)]
pub enum Piece {
    /// A block of whole lines.
    Lines(Block),
    /// A line longer than the block buffer: already cut at the cap and
    /// marked truncated; the rest of it was skipped.
    Long(RawLine),
}

/// How many lines end in `bytes`, which starts at a line start and ends at
/// one (or at the end of the stream): LF, CRLF and bare CR each end one.
pub fn count_line_ends(bytes: &[u8]) -> u64 {
    let lf = memchr_iter(b'\n', bytes).count() as u64;
    if memchr(b'\r', bytes).is_none() {
        return lf;
    }
    let mut crlf = 0;
    for at in memchr2_iter(b'\n', b'\r', bytes) {
        if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
            crlf += 1;
        }
    }
    lf + memchr_iter(b'\r', bytes).count() as u64 - crlf
}

/// Appends the start of every line of `bytes` (which starts at a line
/// start) to `out`, ascending: 0 (when `bytes` is not empty), then the
/// place after each line end [`count_line_ends`] counts that is not the end
/// of `bytes`. The line starting at `out[i]` is line `i` of `bytes`.
pub fn line_starts(bytes: &[u8], out: &mut Vec<usize>) {
    if bytes.is_empty() {
        return;
    }
    out.push(0);
    for at in memchr2_iter(b'\n', b'\r', bytes) {
        let next = at + 1;
        if next < bytes.len() && !(bytes[at] == b'\r' && bytes[next] == b'\n') {
            out.push(next);
        }
    }
}

/// Where the last line end in `data` that more data cannot change is: after
/// an LF, or after a CR followed by something other than LF. A CR at the very
/// end may be the first half of a CRLF.
fn settled_end(data: &[u8]) -> usize {
    match memrchr2(b'\n', b'\r', data) {
        None => 0,
        Some(at) if data[at] == b'\n' || at + 1 < data.len() => at + 1,
        Some(at) => memrchr2(b'\n', b'\r', &data[..at]).map_or(0, |before| before + 1),
    }
}

/// Reads `reader` to its end, handing on blocks of whole lines (and lines
/// longer than the buffer, cut at `max_line`). Lines, offsets, line numbers,
/// truncation and partial last lines are exactly those [`LineSplitter`] gives
/// for the same bytes, however reads cut them. `fill` waits for a full
/// buffer before handing a block on (standard input, a live pipe, should not
/// wait). Buffers come from `spare` (an empty `Vec` is fine: it is sized
/// here), so blocks handed on can be recycled. A read error ends the stream:
/// what was read before it is handed on (its last line partial), then the
/// error is returned; an error from `on_piece` stops reading and is
/// returned. With `numbered` false, for a caller that numbers lines itself
/// (`scan` finds every line start of a block anyway, on its search
/// threads), line ends are not counted and every `line_no` is 0.
pub fn read_blocks_from(
    mut reader: impl Read,
    max_line: usize,
    block: usize,
    fill: bool,
    numbered: bool,
    spare: &mut dyn FnMut() -> Vec<u8>,
    on_piece: &mut dyn FnMut(Piece) -> io::Result<()>,
) -> io::Result<()> {
    let max_line = max_line.max(1);
    let size = block.max(64);
    let mut fresh = || {
        let mut buf = spare();
        if buf.len() < size {
            buf.resize(size, 0);
        }
        buf
    };
    let mut buf = fresh();
    let mut len = 0;
    let mut offset = 0u64;
    let mut line_no = u64::from(numbered);
    let mut failure = None;
    let mut eof = false;
    loop {
        while !eof && len < buf.len() {
            match reader.read(&mut buf[len..]) {
                Ok(0) => eof = true,
                Ok(n) => {
                    len += n;
                    if !fill {
                        break;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    failure = Some(err);
                    eof = true;
                }
            }
        }
        let cut = if eof { len } else { settled_end(&buf[..len]) };
        if cut > 0 {
            let partial_end = eof && !matches!(buf[cut - 1], b'\n' | b'\r');
            let ends = match numbered {
                true => count_line_ends(&buf[..cut]),
                false => 0,
            };
            let mut next = fresh();
            if next.len() < buf.len() {
                next.resize(buf.len(), 0);
            }
            next[..len - cut].copy_from_slice(&buf[cut..len]);
            let data = std::mem::replace(&mut buf, next);
            on_piece(Piece::Lines(Block {
                data,
                len: cut,
                offset,
                line_no,
                partial_end,
            }))?;
            line_no += ends;
            offset += cut as u64;
            len -= cut;
        }
        if eof {
            return failure.map_or(Ok(()), Err);
        }
        if len < buf.len() {
            continue;
        }
        if buf.len() < max_line.saturating_add(2) {
            // The line may still fit under the cap: make room for it.
            let grown = buf.len().saturating_mul(2).min(max_line.saturating_add(2));
            buf.resize(grown, 0);
            continue;
        }
        // The line at the start of the buffer is longer than the cap: keep
        // its head, skip the rest of it up to its line end.
        let head = buf[..max_line].to_vec();
        let start = offset;
        let mut saw_cr = buf[len - 1] == b'\r';
        offset += len as u64;
        len = 0;
        let mut ended = false;
        while !ended {
            let n = loop {
                match reader.read(&mut buf) {
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(err) => {
                        failure = Some(err);
                        break 0;
                    }
                    Ok(n) => break n,
                }
            };
            if n == 0 {
                eof = true;
                break;
            }
            let mut skip = n;
            if saw_cr {
                skip = usize::from(buf[0] == b'\n');
                ended = true;
            } else if let Some(at) = memchr2(b'\n', b'\r', &buf[..n]) {
                skip = at + 1;
                ended = true;
                if buf[at] == b'\r' {
                    match buf[..n].get(at + 1) {
                        Some(b'\n') => skip += 1,
                        Some(_) => {}
                        None => {
                            saw_cr = true;
                            ended = false;
                        }
                    }
                }
            }
            offset += skip as u64;
            buf.copy_within(skip..n, 0);
            len = n - skip;
        }
        on_piece(Piece::Long(RawLine {
            offset: start,
            line_no,
            bytes: head,
            truncated: true,
            partial: eof && !saw_cr,
        }))?;
        line_no += u64::from(numbered);
        if eof && len == 0 {
            return failure.map_or(Ok(()), Err);
        }
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
    fn bzip2_and_zstd_are_read_by_content_including_concatenated_members() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text: Vec<u8> = (0..5000)
            .flat_map(|i| format!("line {i} of a rotated log\n").into_bytes())
            .collect();
        let plain = dir.path().join("a.log");
        std::fs::write(&plain, &text).expect("write");
        let (first, second) = text.split_at(text.len() / 3);
        let mut bz = Vec::new();
        for part in [first, second] {
            let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            enc.write_all(part).expect("compress");
            bz.extend(enc.finish().expect("compress"));
        }
        let bz_path = dir.path().join("a.log.1");
        std::fs::write(&bz_path, bz).expect("write");
        assert_eq!(lines_of(&bz_path), lines_of(&plain));
        let zst_path = dir.path().join("a.log.2");
        let mut zst = Vec::new();
        for part in [first, second] {
            zst.extend(ruzstd::encoding::compress_to_vec(
                part,
                ruzstd::encoding::CompressionLevel::Fastest,
            ));
        }
        std::fs::write(&zst_path, zst).expect("write");
        assert_eq!(lines_of(&zst_path), lines_of(&plain));
        assert_eq!(lines_of(&zst_path)[1].0, 24);
    }

    #[test]
    fn corrupt_zstd_is_an_error_naming_zstd() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.zst");
        let mut bytes = ruzstd::encoding::compress_to_vec(
            &b"some line\n".repeat(1000)[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        let at = bytes.len() / 2;
        bytes[at..].iter_mut().for_each(|b| *b = 0xff);
        std::fs::write(&path, bytes).expect("write");
        let err = read_lines(&Input::Path(path), 1 << 20, |_| {}).expect_err("corrupt");
        assert!(err.to_string().contains("zstd"), "{err}");
    }

    #[test]
    fn identity_names_the_inode_size_and_first_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.log");
        std::fs::write(&path, "hello\n").expect("write");
        let id = identify(&path).expect("identify");
        assert_eq!(id.len, 6);
        assert_eq!(id.fingerprint, Fingerprint::of(b"hello\n"));
        assert!(identify(dir.path()).is_err());
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

    #[test]
    fn a_tail_holds_exactly_the_lines_that_start_in_its_window() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.log");
        let text = b"one\ntwo\r\nthree\rfour\n\nsix\r\n\r\neight partial";
        std::fs::write(&path, text).expect("write");
        let all = lines_of(&path);
        let len = text.len() as u64;
        for window in 0..=len + 2 {
            let tail = read_tail(&path, window).expect("read").expect("plain");
            let mut got = Vec::new();
            tail.lines(1 << 20, |l| got.push((l.offset, l.line_no, l.bytes)));
            let whole = window >= len;
            let want: Vec<_> = all
                .iter()
                .filter(|(offset, ..)| *offset + window >= len)
                .map(|(o, n, b)| (*o, if whole { *n } else { 0 }, b.clone()))
                .collect();
            assert_eq!(got, want, "window {window}");
            assert_eq!(tail.line_no.is_some(), whole, "window {window}");
        }
    }

    #[test]
    fn a_gzip_file_has_no_tail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let gz = dir.path().join("a.log.gz");
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(b"first\nsecond\n").expect("compress");
        std::fs::write(&gz, enc.finish().expect("compress")).expect("write");
        assert_eq!(read_tail(&gz, 4).expect("read"), None);
    }
}

#[cfg(test)]
mod block_tests {
    use super::*;
    use proptest::prelude::*;

    /// A reader that hands out its bytes in the given chunk sizes.
    struct Chunked {
        data: Vec<u8>,
        pos: usize,
        sizes: Vec<usize>,
        next: usize,
    }

    impl Read for Chunked {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let want = self
                .sizes
                .get(self.next)
                .copied()
                .unwrap_or(usize::MAX)
                .max(1);
            self.next += 1;
            let n = want.min(buf.len()).min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    /// `(offset, line_no, bytes, truncated, partial)` of each line.
    type Line = (u64, u64, Vec<u8>, bool, bool);

    struct Lines<'a> {
        bytes: &'a [u8],
        offset: u64,
        line_no: u64,
        partial_end: bool,
    }

    fn by_splitter(data: &[u8], max_line: usize) -> Vec<Line> {
        let mut out = Vec::new();
        let mut splitter = LineSplitter::new(max_line);
        let mut emit =
            |l: RawLine| out.push((l.offset, l.line_no, l.bytes, l.truncated, l.partial));
        splitter.push(data, &mut emit);
        splitter.finish(&mut emit);
        out
    }

    /// Cuts blocks into lines the simple way, to compare with the splitter.
    fn by_blocks(
        data: &[u8],
        max_line: usize,
        block: usize,
        sizes: Vec<usize>,
        fill: bool,
    ) -> Vec<Line> {
        let reader = Chunked {
            data: data.to_vec(),
            pos: 0,
            sizes: sizes.clone(),
            next: 0,
        };
        let mut out = Vec::new();
        let max = max_line.max(1);
        // The pieces, numbered (and their line numbers set to 0).
        let mut pieces = Vec::new();
        let mut unnumbered = Vec::new();
        let summary = |piece: &Piece| match piece {
            Piece::Long(l) => (l.offset, l.bytes.clone(), l.partial, l.line_no),
            Piece::Lines(b) => (b.offset, b.bytes().to_vec(), b.partial_end, b.line_no),
        };
        let again = Chunked {
            data: data.to_vec(),
            pos: 0,
            sizes: sizes.clone(),
            next: 0,
        };
        read_blocks_from(
            again,
            max_line,
            block,
            fill,
            false,
            &mut Vec::new,
            &mut |piece| {
                unnumbered.push(summary(&piece));
                Ok(())
            },
        )
        .expect("reads");
        read_blocks_from(
            reader,
            max_line,
            block,
            fill,
            true,
            &mut Vec::new,
            &mut |piece| {
                let (offset, bytes, partial, _) = summary(&piece);
                pieces.push((offset, bytes, partial, 0));
                match piece {
                    Piece::Long(l) => {
                        out.push((l.offset, l.line_no, l.bytes, l.truncated, l.partial));
                    }
                    Piece::Lines(block) => {
                        let b = Lines {
                            bytes: block.bytes(),
                            offset: block.offset,
                            line_no: block.line_no,
                            partial_end: block.partial_end,
                        };
                        let mut start = 0;
                        let mut line_no = b.line_no;
                        while start < b.bytes.len() {
                            let end = memchr2(b'\n', b'\r', &b.bytes[start..])
                                .map_or(b.bytes.len(), |i| start + i);
                            let line = &b.bytes[start..end];
                            let partial = end == b.bytes.len();
                            assert_eq!(partial, b.partial_end && end == b.bytes.len());
                            out.push((
                                b.offset + start as u64,
                                line_no,
                                line[..line.len().min(max)].to_vec(),
                                line.len() > max,
                                partial,
                            ));
                            line_no += 1;
                            start = end + 1;
                            if end < b.bytes.len()
                                && b.bytes[end] == b'\r'
                                && b.bytes.get(end + 1) == Some(&b'\n')
                            {
                                start += 1;
                            }
                        }
                        assert_eq!(
                            line_no,
                            b.line_no + count_line_ends(b.bytes) + u64::from(b.partial_end)
                        );
                    }
                }
                Ok(())
            },
        )
        .expect("reads");
        assert_eq!(pieces, unnumbered, "the same pieces, not numbered");
        out
    }

    #[test]
    fn a_crlf_across_reads_is_one_line_end() {
        let data = b"ab\r\ncd\re\n";
        assert_eq!(
            by_blocks(data, 100, 64, vec![3, 1, 100], false),
            by_splitter(data, 100)
        );
    }

    #[test]
    fn lines_longer_than_the_buffer_are_cut_and_skipped() {
        let mut data = vec![b'x'; 300];
        data.extend_from_slice(b"\r\nshort\n");
        data.extend(vec![b'y'; 200]);
        let lines = by_blocks(&data, 70, 64, vec![], true);
        assert_eq!(lines, by_splitter(&data, 70));
        assert_eq!(lines.len(), 3);
        assert!(lines[0].3 && lines[2].3 && lines[2].4);
    }

    /// A reader giving one byte per read.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(buf.len()).min(1);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_live_sample_reads_on_until_a_line_ends_or_the_stream_does() {
        // Regression (a last line with no newline, all in the first read,
        // was sampled as no line at all): the profile needs a whole line.
        let (head, whole, _) = sample(Trickle(b"ab\ncd"), 1024, false).expect("reads");
        assert_eq!((&head[..], whole), (&b"ab\n"[..], false));
        let (head, whole, _) = sample(Trickle(b"abcd"), 1024, false).expect("reads");
        assert_eq!((&head[..], whole), (&b"abcd"[..], true));
        let (head, whole, mut again) = sample(Trickle(b"abcd"), 3, false).expect("reads");
        assert_eq!((&head[..], whole), (&b"abc"[..], false));
        let mut all = Vec::new();
        again.read_to_end(&mut all).expect("reads");
        assert_eq!(all, b"abcd");
    }

    #[test]
    fn line_ends_are_counted_like_the_splitter() {
        assert_eq!(count_line_ends(b"a\nb\r\nc\rd\n"), 4);
        assert_eq!(count_line_ends(b"\r\r\n\n"), 3);
        assert_eq!(count_line_ends(b""), 0);
        let mut starts = Vec::new();
        line_starts(b"a\nb\r\nc\rd\n", &mut starts);
        assert_eq!(starts, [0, 2, 5, 7]);
        starts.clear();
        line_starts(b"\r\r\n\nx", &mut starts);
        assert_eq!(starts, [0, 1, 3, 4]);
        starts.clear();
        line_starts(b"", &mut starts);
        assert_eq!(starts, [0usize; 0]);
    }

    /// One case: the bytes, read sizes, line cap, block size, full blocks
    /// or not.
    fn blocks_case() -> impl Strategy<Value = (Vec<u8>, Vec<usize>, usize, usize, bool)> {
        (
            proptest::collection::vec(
                prop_oneof![
                    Just(b'\n'),
                    Just(b'\r'),
                    Just(b'a'),
                    Just(b'b'),
                    any::<u8>()
                ],
                0..400,
            ),
            proptest::collection::vec(1usize..90, 0..20),
            1usize..120,
            64usize..200,
            any::<bool>(),
        )
    }

    /// Blocks hold exactly the lines the splitter cuts, whatever the reads,
    /// the block size and the cap.
    fn blocks_agree(
        (data, sizes, max_line, block, fill): (Vec<u8>, Vec<usize>, usize, usize, bool),
    ) -> Result<(), TestCaseError> {
        prop_assert_eq!(
            by_blocks(&data, max_line, block, sizes, fill),
            by_splitter(&data, max_line)
        );
        Ok(())
    }

    proptest! {
        #[test]
        fn blocks_agree_with_the_splitter(case in blocks_case()) {
            blocks_agree(case)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::test_support::NIGHTLY_CASES))]

        #[test]
        #[ignore = "nightly: many cases, run by hand with `cargo test -- --ignored`"]
        fn blocks_agree_with_the_splitter_nightly(case in blocks_case()) {
            blocks_agree(case)?;
        }
    }
}
