//! See `porthole::fuzzing::config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| porthole::fuzzing::config(data));
