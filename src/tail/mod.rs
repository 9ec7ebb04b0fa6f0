//! The only code that opens log files.
//!
//! [`read`] reads a whole file once (plain, gzip, or stdin) for `scan`;
//! [`follow`] follows files through rotation, truncation and restarts for
//! `watch`, with [`discover`] expanding paths and globs and [`checkpoint`]
//! persisting where each file was read up to; [`split`] cuts bytes into lines
//! with their offsets and line numbers. Every line that leaves this module
//! carries where it came from.

pub mod checkpoint;
pub mod discover;
pub mod follow;
pub mod read;
pub mod split;
pub mod wake;
