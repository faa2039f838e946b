//! The importhook binary, built inside the test package so end-to-end tests can run it.

fn main() -> std::process::ExitCode {
    importhook::cli::main()
}
