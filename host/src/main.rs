//! The `importhook` binary.

/// mimalloc rather than glibc's malloc: 7–12 % less CPU per request in every mode (per-thread
/// free lists; the request path allocates on both workers and frees across them), measured in
/// BENCHMARKS.md ("Allocator"). Built without transparent huge pages (`no_thp`): with them its
/// arenas more than doubled the resident memory of a server with plugins.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    importhook::cli::main()
}
