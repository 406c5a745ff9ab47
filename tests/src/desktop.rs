//! Driving the real desktop app through WebDriver: tauri-driver on free local ports,
//! WebKitWebDriver behind it, the `muppet-studio` binary as the "browser".
//!
//! Nothing here skips: a missing display or binary is an error that says how to get it,
//! so a run without the prerequisites fails instead of passing silently.

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder};

use crate::workspace::{target_dir, workspace_root};

/// How long tauri-driver may take to listen, and to stop after SIGTERM.
const DRIVER_START: Duration = Duration::from_secs(15);
const DRIVER_STOP: Duration = Duration::from_secs(10);

/// The app binary: `MUPPET_STUDIO_BIN`, else `<target>/debug/muppet-studio`.
pub fn app_binary() -> anyhow::Result<PathBuf> {
    let path = match std::env::var_os("MUPPET_STUDIO_BIN").filter(|v| !v.is_empty()) {
        Some(path) => workspace_root().join(path),
        None => target_dir().join("debug").join("muppet-studio"),
    };
    if !path.is_file() {
        bail!(
            "the app binary {} does not exist. Build it first: `npm --prefix ui ci && npm --prefix ui run build && cargo build -p muppet-studio` (or set MUPPET_STUDIO_BIN)",
            path.display()
        );
    }
    Ok(path)
}

/// tauri-driver: `TAURI_DRIVER`, else `<repo>/.tools/bin/tauri-driver`, else on `PATH`.
pub fn tauri_driver_binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("TAURI_DRIVER").filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!(
                "TAURI_DRIVER points at {}, which does not exist",
                path.display()
            );
        }
        return Ok(path);
    }
    let local = workspace_root().join(".tools/bin/tauri-driver");
    if local.is_file() {
        return Ok(local);
    }
    find_on_path("tauri-driver").context(
        "tauri-driver is not installed: run `scripts/desktop-tools.sh` (installs it into .tools/) or set TAURI_DRIVER",
    )
}

/// Fail unless an X display and WebKitWebDriver are available.
pub fn require_display_and_webdriver() -> anyhow::Result<()> {
    if std::env::var_os("DISPLAY")
        .filter(|v| !v.is_empty())
        .is_none()
    {
        bail!(
            "DISPLAY is not set, so the app cannot open a window. Run the test under a virtual display: `xvfb-run -a cargo test -p muppet-tests --test desktop`"
        );
    }
    find_on_path("WebKitWebDriver").context(
        "WebKitWebDriver is not on PATH: install it with `apt-get install webkit2gtk-driver`",
    )?;
    Ok(())
}

fn find_on_path(name: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .with_context(|| format!("`{name}` was not found on PATH"))
}

/// Two distinct free ports on the loopback interface. Both listeners are held until both
/// are chosen so the kernel cannot hand out the same port twice.
fn free_ports() -> anyhow::Result<(u16, u16)> {
    let a = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("bind a free port")?;
    let b = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("bind a free port")?;
    Ok((a.local_addr()?.port(), b.local_addr()?.port()))
}

/// A running tauri-driver. Dropping it stops it with SIGTERM, which lets it shut
/// WebKitWebDriver down too (SIGKILL would leave WebKitWebDriver holding the pipes).
pub struct TauriDriver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl TauriDriver {
    /// Start tauri-driver with `env` added to its environment; WebKitWebDriver and the app
    /// it launches inherit it. stdout and stderr go to `log`.
    pub fn start(env: &[(&str, &Path)], log: &Path) -> anyhow::Result<Self> {
        let binary = tauri_driver_binary()?;
        let (port, native_port) = free_ports()?;
        let out = File::create(log).with_context(|| format!("create {}", log.display()))?;
        let mut command = Command::new(&binary);
        command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .with_context(|| format!("start {}", binary.display()))?;
        let mut driver = Self {
            child,
            port,
            log: log.to_path_buf(),
        };
        driver.wait_until_listening()?;
        Ok(driver)
    }

    fn wait_until_listening(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + DRIVER_START;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "tauri-driver exited with {status} before listening:\n{}",
                    self.log_text()
                );
            }
            if TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "tauri-driver did not listen on port {} within {DRIVER_START:?}:\n{}",
                    self.port,
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What tauri-driver and WebKitWebDriver have printed so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Open a WebDriver session whose "browser" is the app at `application`.
    pub async fn connect(&self, application: &Path) -> anyhow::Result<Client> {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": application }),
        );
        ClientBuilder::native()
            .capabilities(capabilities)
            .connect(&self.url())
            .await
            .with_context(|| {
                format!(
                    "start a WebDriver session with {}:\n{}",
                    application.display(),
                    self.log_text()
                )
            })
    }

    fn terminate(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + DRIVER_STOP;
        while sent && Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Last resort only: it did not honour SIGTERM.
        eprintln!(
            "tauri-driver did not stop after SIGTERM; killing it. Log: {}",
            self.log.display()
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        self.terminate();
    }
}
