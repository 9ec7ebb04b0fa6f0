//! The only code that opens log files.
//!
//! [`read`] reads a whole file once (plain, gzip, or stdin) for `scan`;
//! [`split`] cuts bytes into lines with their offsets and line numbers. Every
//! line that leaves this module carries where it came from.

pub mod read;
pub mod split;
