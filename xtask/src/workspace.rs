//! Paths of the workspace and the cargo commands run inside it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

pub struct Workspace {
    pub root: PathBuf,
    target_dir: PathBuf,
}

impl Workspace {
    /// Locates the workspace from xtask's own manifest directory and reads the target directory
    /// from `cargo metadata`, because CARGO_TARGET_DIR or a cargo config may move it.
    pub fn locate() -> Result<Workspace> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .context("xtask's manifest directory has no parent")?
            .to_path_buf();

        let mut metadata = Command::new(cargo_program());
        metadata.current_dir(&root).args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--locked",
        ]);
        let output = metadata.output().context("failed to run cargo metadata")?;
        if !output.status.success() {
            bail!(
                "cargo metadata failed with {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
            .context("cargo metadata printed invalid JSON")?;
        let target_dir = metadata["target_directory"]
            .as_str()
            .context("cargo metadata printed no target_directory")?;

        Ok(Workspace {
            root,
            target_dir: PathBuf::from(target_dir),
        })
    }

    /// Directory where nextest keeps per-profile output such as JUnit reports. This is nextest's
    /// default (`<target dir>/nextest`), which a `[store] dir` setting in the repository's
    /// nextest config would move.
    pub fn nextest_store_dir(&self) -> PathBuf {
        self.target_dir.join("nextest")
    }

    /// The cargo target directory of the workspace.
    pub fn target_dir(&self) -> &Path {
        &self.target_dir
    }

    /// Returns a cargo command that runs in the workspace root.
    pub fn cargo(&self) -> Command {
        let mut command = Command::new(cargo_program());
        command.current_dir(&self.root);
        command
    }
}

/// Returns the cargo that started xtask (cargo sets CARGO for `cargo run`), else the one on PATH.
fn cargo_program() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"))
}
