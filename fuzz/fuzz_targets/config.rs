#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| flywheel_fuzz::config(data));
