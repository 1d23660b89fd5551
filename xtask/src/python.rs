//! A Python virtual environment under the target directory with the pinned packages of a
//! requirements file, for the conformance steps that drive the server with Python tools.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::interrupt;

/// Copy of the requirements file that was last installed, kept inside the environment.
const INSTALLED_REQUIREMENTS: &str = "requirements.installed.txt";

pub struct VirtualEnv {
    dir: PathBuf,
}

impl VirtualEnv {
    /// Creates the environment in `dir` with `python3 -m venv` when it does not exist, and
    /// installs `requirements` with pip unless exactly that file was installed before.
    pub fn ensure(dir: &Path, requirements: &Path) -> Result<VirtualEnv> {
        let env = VirtualEnv {
            dir: dir.to_path_buf(),
        };
        if !env.python().exists() {
            eprintln!("creating the Python virtual environment {}", dir.display());
            let mut command = Command::new("python3");
            command.args(["-m", "venv"]).arg(dir);
            let status = interrupt::run(&mut command)?;
            if !status.success() {
                bail!(
                    "`{}` failed with {status}; install Python 3 with its venv module",
                    interrupt::describe(&command)
                );
            }
        }

        let wanted = std::fs::read_to_string(requirements)
            .with_context(|| format!("failed to read {}", requirements.display()))?;
        let marker = dir.join(INSTALLED_REQUIREMENTS);
        let installed = std::fs::read_to_string(&marker).unwrap_or_default();
        if installed != wanted {
            eprintln!(
                "installing {} into {}",
                requirements.display(),
                dir.display()
            );
            let mut command = Command::new(env.python());
            command
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .arg("--requirement")
                .arg(requirements);
            let status = interrupt::run(&mut command)?;
            if !status.success() {
                bail!("`{}` failed with {status}", interrupt::describe(&command));
            }
            std::fs::write(&marker, wanted)
                .with_context(|| format!("failed to write {}", marker.display()))?;
        }
        Ok(env)
    }

    /// The environment's Python interpreter.
    pub fn python(&self) -> PathBuf {
        self.program("python")
    }

    /// A console script that a package installed into the environment, such as `st`.
    pub fn program(&self, name: &str) -> PathBuf {
        self.dir.join("bin").join(name)
    }
}
