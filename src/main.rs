//! The `tabel` command: parses the command line, sets up logging, runs the
//! chosen command and turns its outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the system's allocator: a night's rendering makes
/// and drops millions of small strings on every core, and glibc's
/// allocator took a seventh of the build's CPU time
/// (docs/benchmarks.md, "The allocator and the school's read").
///
/// Built without transparent huge pages (the `no_thp` feature): mimalloc
/// otherwise asks the kernel for 2 MiB pages, and memory it gives back
/// between schools and takes again is then faulted in and zeroed 2 MiB at
/// a time, where a school touches far less of it. The city's warm night
/// took about 5 % less time and peaked 30-70 MB lower without them
/// (docs/benchmarks.md, "Memory without huge pages").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = tabel::cmd::Cli::parse();
    tabel::cmd::init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_unpark(tabel::http::worker_woke)
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(tabel::cmd::run(cli)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    /// The heap holds no transparent huge pages where the kernel gives them
    /// only to memory that asks for them (`madvise`, this system's setting):
    /// the allocator does not ask. Built with mimalloc's huge pages, 64 MiB
    /// of heap is mostly huge pages here.
    #[test]
    fn the_heap_asks_for_no_huge_pages() {
        let Ok(mode) = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        else {
            return;
        };
        if !mode.contains("[madvise]") {
            return;
        }
        let mut heap = vec![0u8; 64 << 20];
        for byte in heap.iter_mut().step_by(4096) {
            *byte = 1;
        }
        std::hint::black_box(&heap);
        let rollup = std::fs::read_to_string("/proc/self/smaps_rollup").expect("smaps_rollup");
        let huge = rollup
            .lines()
            .find_map(|l| l.strip_prefix("AnonHugePages:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .expect("an AnonHugePages line");
        assert_eq!(huge, 0, "{huge} kB of the heap are huge pages");
    }
}
