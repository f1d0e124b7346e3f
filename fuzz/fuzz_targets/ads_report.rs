#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| flywheel_fuzz::ads_report(data));
