//! The backend binary as a separate process, so its resident memory is the server's alone (read
//! from `/proc/PID/status`) and it can be killed and restarted on the same port (`sockets`, `sync`).

use super::mongodb_uri;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The soft open-files limit of this process (the spawned server inherits it), from `/proc/self/limits`.
pub fn open_files_limit() -> u64 {
    let text = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1024)
}

/// A `/proc/PID/status` field in KiB (`VmRSS`, `VmHWM`).
pub fn status_kib(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|l| {
            l.strip_prefix(field)
                .and_then(|r| r.trim_start_matches(':').split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

pub fn status_field(pid: u32, field: &str) -> String {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|l| {
            l.strip_prefix(field)
                .map(|r| r.trim_start_matches(':').trim().to_owned())
        })
        .unwrap_or_default()
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// The backend binary, running in its own directory (no developer `.env` leaks in).
pub struct Server {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl Server {
    /// On a random port.
    pub fn spawn(db_name: &str, secret: &str) -> Server {
        Server::spawn_on(db_name, secret, 0, &[])
    }

    /// On `port` (0 = any free one), with `extra` environment on top of the bench defaults.
    pub fn spawn_on(db_name: &str, secret: &str, port: u16, extra: &[(&str, &str)]) -> Server {
        let dir = std::env::temp_dir().join(format!(
            "oddxer-bench-{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ));
        std::fs::create_dir_all(&dir).expect("bench dir");
        let port_file = dir.join("port");
        let log = std::fs::File::create(dir.join("backend.log")).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_oddxer-backend"))
            .current_dir(&dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("APP_ENV", "test")
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("PORT_FILE", &port_file)
            .env("MONGODB_URI", mongodb_uri())
            .env("DB_NAME", db_name)
            .env("JWT_SECRET", secret)
            .env("SMS_PROVIDER", "outbox")
            .env("PAYMENT_PROVIDER", "sandbox")
            .env("RECOVERY_INTERVAL", "1h")
            .env("MARKET_WORKER_INTERVAL", "1h")
            .env("RUST_LOG", "warn")
            .envs(extra.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("spawn the backend binary");
        let port = Self::wait_for_port(&port_file, &dir);
        Server { child, port, dir }
    }

    fn wait_for_port(port_file: &Path, dir: &Path) -> u16 {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(port) = std::fs::read_to_string(port_file)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                return port;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "the backend did not start within 60 s; see {}",
            dir.join("backend.log").display()
        );
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn rss(&self) -> u64 {
        status_kib(self.pid(), "VmRSS")
    }

    /// Peak resident memory of the process so far (`VmHWM`), in KiB.
    pub fn peak_rss(&self) -> u64 {
        status_kib(self.pid(), "VmHWM")
    }

    /// Kills the process at once (SIGKILL: no graceful close of its sockets, like a crash).
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
