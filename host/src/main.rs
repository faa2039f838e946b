//! The `importhook` binary.

fn main() -> std::process::ExitCode {
    importhook::cli::main()
}
