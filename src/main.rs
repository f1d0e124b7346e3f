//! Thin binary: everything lives in the library (`flywheel::cli`).

fn main() -> std::process::ExitCode {
    flywheel::cli::main()
}
