//! `heaplens`: .NET heap snapshots from the command line.

/// `print!` to standard output that ends the program quietly when the
/// reader has gone (`heaplens stats FILE | head`: a closed pipe is not an
/// error, as with coreutils), and with a message on any other write error.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_out(format_args!($($arg)*))
    };
}

/// `println!` as [`out!`] does it.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod counts;
mod diff;
mod findings;
mod flame;
mod info;
mod instances;
mod object;
mod retained;
mod roots;
mod stats;
mod strings;
mod waste;

use clap::{Parser, Subcommand};
use heaplens_bytes::{FileSource, PageCache, ReadAt};
use heaplens_graph::{Cancelled, Phase, Progress};
use heaplens_snapshot::modules::ModuleSet;
use heaplens_snapshot::Snapshot;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// heaplens: what fills a .NET heap, read from a .gcdump or a Linux core
/// dump or a Windows minidump.
#[derive(Parser, Debug)]
#[command(name = "heaplens", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// A directory of managed module files (.dll) for dumps that lack
    /// their images: the application's output directory and the runtime's
    /// shared framework directory (`shared/Microsoft.NETCore.App/<version>`)
    /// of the same build. Repeatable. A file is used only when it matches
    /// the dumped module.
    #[arg(long, global = true, value_name = "DIR")]
    modules: Vec<PathBuf>,
    /// Exit with 0 also when an input is partial (a dump cut short, or
    /// one that lacks part of the heap or its roots); without it such a
    /// result is still printed, marked partial, and the exit code is 3.
    #[arg(long, global = true)]
    allow_partial: bool,
}

/// The exit code of a result printed from a partial input (see
/// `--allow-partial`).
const EXIT_PARTIAL: u8 = 3;

/// Set when a snapshot read for the command is partial.
static PARTIAL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The module directories given with `--modules`.
static MODULE_DIRS: std::sync::OnceLock<Vec<PathBuf>> = std::sync::OnceLock::new();

#[derive(Subcommand, Debug)]
enum Command {
    /// Per-type statistics: count, bytes and share of the heap.
    Stats(stats::StatsArgs),
    /// Why the objects of a type are alive: the shortest path from a root
    /// and the aggregated referred-from tree.
    Roots(roots::RootsArgs),
    /// Retained sizes from the dominator tree: per type (each object
    /// once) and the largest objects.
    Retained(retained::RetainedArgs),
    /// Per-type count and byte changes between two snapshots (any formats).
    Diff(diff::DiffArgs),
    /// A flame graph of what holds the heap (by retained or PerfView's
    /// inclusive size), or of what grew between two snapshots.
    Flame(flame::FlameArgs),
    /// What the dump is: container, system, process, runtime, memory by
    /// kind, and whether its heap can be read (and if not, why).
    Info(info::InfoArgs),
    /// One object: its type, size, retained size, fields and their values,
    /// what a delegate calls, the objects referring to it and its
    /// dominators up to a root.
    Object(object::ObjectArgs),
    /// The objects of a type, sorted by size or retained size and paged,
    /// and the type's static fields.
    Instances(instances::InstancesArgs),
    /// Duplicate strings: values with several copies, the bytes the extra
    /// copies take and the type holding them; string search.
    Strings(strings::StringsArgs),
    /// Wasted collections: empty ones, fill ratios, arrays of zeros or
    /// nulls, with their wasted bytes and holders.
    Waste(waste::WasteArgs),
    /// Leak suspects: the .NET patterns that hold memory (timers, events,
    /// cancellation registrations, caches, HttpClient churn, …), each with
    /// its evidence, retention path and usual fix, ranked by retained
    /// bytes (one dump) or retained growth (first dump against the last).
    Findings(findings::FindingsArgs),
}

fn main() -> ExitCode {
    // A panic is a bug of heaplens, and says so; running out of memory is
    // the allocator's own message ("memory allocation of N bytes failed")
    // and an abort: the two are never confused.
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "heaplens: internal error (a bug in heaplens, not a lack of memory nor a problem \
             of the file): {info}\nPlease report it with the command line and, if you can \
             share it, the file."
        );
    }));
    let cli = Cli::parse();
    MODULE_DIRS.get_or_init(|| cli.modules.clone());
    let result = match cli.command {
        Command::Stats(args) => stats::run(&args),
        Command::Roots(args) => roots::run(&args),
        Command::Retained(args) => retained::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Flame(args) => flame::run(&args),
        Command::Info(args) => info::run(&args),
        Command::Object(args) => object::run(&args),
        Command::Instances(args) => instances::run(&args),
        Command::Strings(args) => strings::run(&args),
        Command::Waste(args) => waste::run(&args),
        Command::Findings(args) => findings::run(&args),
    };
    match result {
        Ok(()) if PARTIAL.load(std::sync::atomic::Ordering::Relaxed) && !cli.allow_partial => {
            eprintln!(
                "heaplens: the input is partial (see the result's first lines): the result \
                 covers only the part the file holds; exit code {EXIT_PARTIAL} \
                 (--allow-partial accepts it)"
            );
            ExitCode::from(EXIT_PARTIAL)
        }
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("heaplens: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Writes to standard output; a closed pipe ends the program with
/// success, another write error with a message and failure.
pub(crate) fn write_out(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("heaplens: cannot write the output: {e}");
        std::process::exit(1);
    }
}

/// Opens `path` through a page cache, showing progress on a terminal. A
/// partial input is noted for the exit code.
pub(crate) fn open_snapshot(path: &Path) -> Result<Snapshot, String> {
    let snap = with_input(path, heaplens_snapshot::open_shared_with)?;
    if !snap.info.coverage.is_complete() {
        PARTIAL.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(snap)
}

/// Opens `path` as a snapshot and runs `f` with it and the file's bytes
/// (through the same page cache), for commands that read object contents
/// ([`Snapshot::object_reader`]). A partial input is noted for the exit
/// code.
pub(crate) fn with_snapshot<T>(
    path: &Path,
    f: impl FnOnce(&Snapshot, &(dyn ReadAt + Sync)) -> Result<T, String>,
) -> Result<T, String> {
    let src = open_file(path)?;
    let snap = read_input(path, &src, heaplens_snapshot::open_shared_with)?;
    if !snap.info.coverage.is_complete() {
        PARTIAL.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    f(&snap, &src)
}

/// `path` through a page cache.
pub(crate) fn open_file(path: &Path) -> Result<PageCache<FileSource>, String> {
    let file =
        FileSource::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    Ok(PageCache::new(file))
}

/// Runs `read` on `path` through a page cache, with the `--modules` files
/// and progress shown on a terminal; its error names the file.
pub(crate) fn with_input<T>(
    path: &Path,
    read: impl FnOnce(
        &(dyn ReadAt + Sync),
        &ModuleSet,
        &mut dyn Progress,
    ) -> Result<T, heaplens_snapshot::OpenError>,
) -> Result<T, String> {
    let src = open_file(path)?;
    read_input(path, &src, read)
}

/// Runs `read` on `src`, the bytes of `path`, with the `--modules` files
/// and progress shown on a terminal; its error names the file.
pub(crate) fn read_input<T>(
    path: &Path,
    src: &(dyn ReadAt + Sync),
    read: impl FnOnce(
        &(dyn ReadAt + Sync),
        &ModuleSet,
        &mut dyn Progress,
    ) -> Result<T, heaplens_snapshot::OpenError>,
) -> Result<T, String> {
    let tty = std::io::stderr().is_terminal();
    let mut last = u64::MAX;
    let mut phase_start = (None, std::time::Instant::now());
    let mut progress = |phase: Phase, done: u64, total: u64| -> Result<(), Cancelled> {
        if tty && total > 0 {
            if phase_start.0 != Some(phase) {
                phase_start = (Some(phase), std::time::Instant::now());
            }
            let pct = done.min(total) * 100 / total;
            if pct != last {
                last = pct;
                if phase == Phase::Unpacking {
                    // Unpacking an archive: bytes of it, and the time left.
                    let secs = phase_start.1.elapsed().as_secs_f64();
                    let left = if done > 0 && secs > 1.0 {
                        let left = secs * total.saturating_sub(done) as f64 / done as f64;
                        format!(", about {left:.0} s left")
                    } else {
                        String::new()
                    };
                    eprint!(
                        "\r{phase}: {pct:3}% of {} compressed bytes{left}   ",
                        stats::thousands(total)
                    );
                } else {
                    eprint!("\r{phase}: {pct:3}%");
                }
                if done == total {
                    eprint!("\r{:72}\r", "");
                }
            }
        }
        Ok(())
    };
    let mut modules = ModuleSet::new();
    for dir in MODULE_DIRS.get().into_iter().flatten() {
        modules
            .add_dir(dir)
            .map_err(|e| format!("--modules {}: {e}", dir.display()))?;
    }
    read(src, &modules, &mut progress).map_err(|e| format!("{}: {e}", path.display()))
}

/// The line naming the dumped process (`process: w3wp.exe (pid 4242)`),
/// or nothing when the input does not name it.
pub(crate) fn process_line(name: Option<&str>, pid: Option<u32>) -> String {
    match name {
        Some(name) => {
            let pid = pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
            format!("process: {name}{pid}\n")
        }
        None => String::new(),
    }
}

/// The lines saying which archives the dump came in (none for a dump read
/// as it is): `from: zip entry w3wp.dmp (deflate): … unpacked …`.
pub(crate) fn archive_lines(archives: &[heaplens_results::ArchiveFacts]) -> String {
    let mut s = String::new();
    for a in archives {
        s += &format!(
            "from: {}
",
            a.words()
        );
        if let Some(others) = a.others_words() {
            s += &format!(
                "      {others}
"
            );
        }
    }
    s
}

/// A path argument.
pub(crate) type FileArg = PathBuf;

/// The size of the file at `path` in bytes.
pub(crate) fn file_bytes(path: &Path) -> Result<u64, String> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("cannot open {}: {e}", path.display()))
}

/// Prints a document of the result schema (`heaplens_results`) as one line
/// of JSON.
pub(crate) fn print_json(doc: &impl serde::Serialize) -> Result<(), String> {
    let s = serde_json::to_string(doc).map_err(|e| format!("cannot write the JSON: {e}"))?;
    outln!("{s}");
    Ok(())
}
