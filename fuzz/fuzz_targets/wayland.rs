//! See `porthole::fuzzing::wayland`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| porthole::fuzzing::wayland(data));
