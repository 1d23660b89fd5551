//! CPU time of the processes in a run, read from `/proc/<pid>/stat`, so that the report can
//! show where the two cores went: the server, PostgreSQL, and the load driver or pgbench.

use std::process::Command;

use anyhow::{Context, Result};

/// CPU time in milliseconds of each party, at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuSnapshot {
    /// The server process with all its threads; zero when no server runs.
    pub server_ms: f64,
    /// Every process named `postgres` on the machine, with the children they reaped.
    pub postgres_ms: f64,
    /// This process (the load driver) with the children it reaped (pgbench).
    pub driver_ms: f64,
}

/// CPU time spent between two snapshots, per request.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuPerRequest {
    pub server_ms: f64,
    pub postgres_ms: f64,
    pub driver_ms: f64,
}

impl CpuSnapshot {
    /// Reads the CPU time of the server `server_pid`, of PostgreSQL and of this process.
    pub fn take(server_pid: Option<u32>) -> Result<Self> {
        let tick_ms = 1000.0 / clock_ticks_per_second();
        let server_ms = match server_pid {
            Some(pid) => own_ticks(&read_stat(&format!("/proc/{pid}/stat"))?)? as f64 * tick_ms,
            None => 0.0,
        };
        Ok(Self {
            server_ms,
            postgres_ms: postgres_ticks()? as f64 * tick_ms,
            driver_ms: with_children_ticks(&read_stat("/proc/self/stat")?)? as f64 * tick_ms,
        })
    }

    /// Divides the CPU time spent since `earlier` by `requests`.
    pub fn per_request_since(&self, earlier: &Self, requests: usize) -> CpuPerRequest {
        let requests = requests.max(1) as f64;
        CpuPerRequest {
            server_ms: (self.server_ms - earlier.server_ms) / requests,
            postgres_ms: (self.postgres_ms - earlier.postgres_ms) / requests,
            driver_ms: (self.driver_ms - earlier.driver_ms) / requests,
        }
    }
}

fn read_stat(path: &str) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("failed to read {path}"))
}

/// Splits a stat line into the command name and the fields after it. The name sits in
/// parentheses and may contain spaces, so the fields start after the last `)`.
fn split_stat(stat: &str) -> Result<(&str, Vec<&str>)> {
    let open = stat.find('(').context("no '(' in a stat line")?;
    let close = stat.rfind(')').context("no ')' in a stat line")?;
    let fields = stat[close + 1..].split_whitespace().collect();
    Ok((&stat[open + 1..close], fields))
}

/// Returns field `number` of proc_pid_stat(5), given `fields` starting at field 3 (state).
fn field(fields: &[&str], number: usize) -> Result<u64> {
    let value = fields
        .get(number - 3)
        .with_context(|| format!("stat line has no field {number}"))?;
    value
        .parse()
        .with_context(|| format!("invalid stat field {number}: {value:?}"))
}

/// Returns utime + stime: the process's own CPU time in clock ticks, all threads included.
fn own_ticks(stat: &str) -> Result<u64> {
    let (_, fields) = split_stat(stat)?;
    Ok(field(&fields, 14)? + field(&fields, 15)?)
}

/// Returns utime + stime + cutime + cstime, which adds the children the process waited for.
fn with_children_ticks(stat: &str) -> Result<u64> {
    let (_, fields) = split_stat(stat)?;
    Ok(field(&fields, 14)? + field(&fields, 15)? + field(&fields, 16)? + field(&fields, 17)?)
}

/// Sums the CPU ticks of every `postgres` process, including the backends that already exited (the
/// postmaster reaps them, so they count in its children's time).
fn postgres_ticks() -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir("/proc").context("failed to list /proc")? {
        let entry = entry?;
        let name = entry.file_name();
        if !name
            .to_string_lossy()
            .bytes()
            .all(|byte| byte.is_ascii_digit())
        {
            continue;
        }
        // A process may exit between the listing and the read.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if split_stat(&stat)?.0 == "postgres" {
            total += with_children_ticks(&stat)?;
        }
    }
    Ok(total)
}

/// Returns the kernel's clock ticks per second (`getconf CLK_TCK`), or 100 when getconf fails.
fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "1234 (postgres: a b) S 1 2 3 4 5 6 7 8 9 10 11 22 33 44 0 0 0";

    #[test]
    fn stat_line_name_and_times() {
        let (name, _) = split_stat(STAT).unwrap();
        assert_eq!(name, "postgres: a b");
        assert_eq!(own_ticks(STAT).unwrap(), 11 + 22);
        assert_eq!(with_children_ticks(STAT).unwrap(), 11 + 22 + 33 + 44);
    }

    #[test]
    fn snapshot_reads_this_process() {
        let snapshot = CpuSnapshot::take(Some(std::process::id())).unwrap();
        assert!(snapshot.server_ms >= 0.0);
        assert!(snapshot.driver_ms >= snapshot.server_ms);
    }
}
