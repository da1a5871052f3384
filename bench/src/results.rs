//! The results file: each extra benchmark keeps its own section under `## Notes`.

use std::path::{Path, PathBuf};

/// Puts `section` (which starts with `heading`) under `## Notes` of the results file, replacing
/// an earlier run's section of that heading.
pub fn write_section(out: &Path, heading: &str, section: &str) -> anyhow::Result<()> {
    let existing = std::fs::read_to_string(out).unwrap_or_default();
    let text = match existing.find(heading) {
        Some(start) => {
            let after = start + heading.len();
            let end = existing[after..]
                .find("\n## ")
                .or_else(|| existing[after..].find("\n### "))
                .map(|e| after + e + 1)
                .unwrap_or(existing.len());
            format!("{}{}\n{}", &existing[..start], section, &existing[end..])
        }
        None => {
            let mut t = existing.trim_end().to_owned();
            if !t.contains("\n## Notes") {
                t.push_str("\n\n## Notes");
            }
            format!("{t}\n\n{section}")
        }
    };
    std::fs::write(out, format!("{}\n", text.trim_end()))?;
    Ok(())
}

/// The cores this machine offers, for a run's header line.
pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// The runtime a benchmark drives its load from.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// The services a benchmark runs against and where it writes, shared by the extra benchmarks.
#[derive(clap::Args, Debug)]
pub struct Services {
    /// PostgreSQL server (fresh databases are made and dropped).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub postgres: String,
    /// Redis server (keys under fresh prefixes).
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    pub redis: String,
    /// The results file.
    #[arg(long, default_value = "bench/RESULTS.md")]
    pub out: PathBuf,
}
