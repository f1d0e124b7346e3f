//! Thin binary: everything lives in the library (`flywheel::cmd`).

fn main() -> std::process::ExitCode {
    flywheel::cmd::main()
}
