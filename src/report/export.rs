//! Writes the exports a user asked for (hyperfine's `--export-*` convention), from a saved run.

use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::ExportArgs;
use crate::result::RunResult;

/// Writes every requested export; returns the paths written.
pub fn write(run: &RunResult, args: &ExportArgs) -> Result<Vec<String>> {
    let mut written = Vec::new();
    let mut put = |path: &Path, text: &str| -> Result<()> {
        crate::run::write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path.display().to_string());
        Ok(())
    };
    if let Some(p) = &args.export_json {
        put(p, &serde_json::to_string_pretty(run)?)?;
    }
    if let Some(p) = &args.export_csv {
        put(p, &super::csv::render(run)?)?;
    }
    if let Some(p) = &args.export_markdown {
        put(p, &super::markdown::render(run))?;
    }
    if let Some(dir) = &args.export_svg {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        put(
            &dir.join("latency-cdf.svg"),
            &super::plot::latency_cdf(run)?,
        )?;
        put(
            &dir.join("queries-per-lookup.svg"),
            &super::plot::queries_per_lookup(run)?,
        )?;
    }
    if let Some(p) = &args.export_html {
        put(p, &super::html::render(run)?)?;
    }
    Ok(written)
}
