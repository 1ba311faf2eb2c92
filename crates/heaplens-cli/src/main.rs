//! `heaplens`: .NET heap snapshots from the command line.

mod diff;
mod retained;
mod roots;
mod stats;

use clap::{Parser, Subcommand};
use heaplens_bytes::{FileSource, PageCache};
use heaplens_graph::{Cancelled, Snapshot};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// heaplens: what fills a .NET heap, read from a .gcdump (core dumps and
/// Windows minidumps are coming).
#[derive(Parser, Debug)]
#[command(name = "heaplens", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Stats(args) => stats::run(&args),
        Command::Roots(args) => roots::run(&args),
        Command::Retained(args) => retained::run(&args),
        Command::Diff(args) => diff::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("heaplens: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Opens `path` through a page cache, showing progress on a terminal.
pub(crate) fn open_snapshot(path: &Path) -> Result<Snapshot, String> {
    let file =
        FileSource::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let src = PageCache::new(file);
    let tty = std::io::stderr().is_terminal();
    let mut last = u64::MAX;
    let mut progress = |phase: &str, done: u64, total: u64| -> Result<(), Cancelled> {
        if tty && total > 0 {
            let pct = done * 100 / total;
            if pct != last {
                last = pct;
                eprint!("\rreading {phase}: {pct:3}%");
                if done == total {
                    eprint!("\r{:40}\r", "");
                }
            }
        }
        Ok(())
    };
    heaplens_snapshot::open(&src, &mut progress).map_err(|e| format!("{}: {e}", path.display()))
}

/// A path argument.
pub(crate) type FileArg = PathBuf;
