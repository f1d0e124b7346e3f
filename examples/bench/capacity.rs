//! `capacity`: placeholder while it is being written (not yet a benchmark).

use crate::Args;

pub fn run(_args: &Args) {
    eprintln!("bench capacity: not written yet");
    std::process::exit(2);
}
