//! Panics inside tantivy's reading of a damaged index, turned into errors.
//!
//! tantivy checks some damage and reports it (a file cut short fails its
//! footer check), but it trusts what decodes: a segment file overwritten by
//! another segment's (valid on its own, checksum included) or bytes changed
//! where no check looks make it index past a buffer and panic deep inside
//! (bit unpacking of a fast column, the term dictionary, file slices), with
//! no error path to ask for instead. Searching the index wraps each call
//! into tantivy that reads segment data in [`catch`]; the panic becomes the
//! caller's error naming the index and `triage reindex`.
//!
//! Must not: wrap anything that writes (a writer's state after a panic is
//! not known), nor more of triage's own logic than tantivy calls back into
//! (a search's collectors run inside, per document: a bug there would be
//! reported as damage, with its message, which says which it is).
//!
//! Invariant: while [`catch`] runs on a thread, [`catching`] is true on that
//! thread, and the process's panic hooks print nothing for a panic there
//! (it is reported as an error instead).

use std::{
    any::Any,
    cell::Cell,
    panic::{self, AssertUnwindSafe},
};

thread_local! {
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Whether a panic on this thread now would be caught by [`catch`] and
/// reported as a damaged index: a panic hook then stays quiet.
pub fn catching() -> bool {
    DEPTH.with(|depth| depth.get() > 0)
}

/// Leaves [`catch`]'s scope, however it ends.
struct Scope;

impl Drop for Scope {
    fn drop(&mut self) {
        DEPTH.with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

/// Runs `f`, a call into tantivy that reads the index; a panic in it comes
/// back as its message.
///
/// `AssertUnwindSafe`: what a panic can leave half-done is tantivy's
/// read-side state (caches behind locks, which it then reports poisoned:
/// an error, or another panic caught the same way); the caller drops the
/// search and reports the damage.
pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    DEPTH.with(|depth| depth.set(depth.get() + 1));
    let _scope = Scope;
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| message(payload.as_ref()))
}

fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else {
        "a failure without a message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_comes_back_as_its_message_and_the_scope_ends() {
        assert!(!catching());
        assert_eq!(catch(|| 7), Ok(7));
        let caught = catch(|| {
            assert!(catching());
            let v: Vec<u8> = Vec::new();
            v[usize::from(catching())]
        });
        assert_eq!(
            caught,
            Err("index out of bounds: the len is 0 but the index is 1".to_owned())
        );
        assert_eq!(
            catch(|| panic::panic_any(3u8)),
            Err("a failure without a message".to_owned())
        );
        assert!(!catching());
    }
}
