//! The desktop app end to end: a real SQLite file written through muppet-store, the real
//! `muppet-studio` binary driven through tauri-driver + WebKitWebDriver.
//!
//! Needs an X display and the tools of `scripts/desktop-tools.sh`; run it as
//! `xvfb-run -a cargo test -p muppet-tests --test desktop`. Without them it fails with
//! a message saying what is missing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, ensure};
use fantoccini::{Client, Locator};
use muppet_core::{MetricPoint, MuppetHome, RunId, RunKind, RunStatus};
use muppet_store::{NewRun, Store};
use muppet_tests::desktop::{TauriDriver, app_binary, require_display_and_webdriver};
use muppet_tests::workspace::artifact_dir;

/// Upper bound of one whole test; a hung app or driver fails instead of blocking CI.
const TEST_LIMIT: Duration = Duration::from_secs(180);
const UI_WAIT: Duration = Duration::from_secs(30);

/// Hold an exclusive lock on a file under the target dir: one app window at a time, also
/// across processes (nextest runs each test in its own), since the tests share the X
/// display and two CPU cores.
async fn one_app_at_a_time() -> anyhow::Result<std::fs::File> {
    let path = artifact_dir("desktop-logs")?.join(".one-app-at-a-time.lock");
    let lock = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
        let file = std::fs::File::create(&path)?;
        file.lock()?;
        Ok(file)
    });
    Ok(lock.await??)
}

fn loss_points(steps: u64, last: f64) -> Vec<MetricPoint> {
    (1..=steps)
        .map(|step| MetricPoint {
            task: None,
            split: "train".into(),
            name: "loss".into(),
            step,
            examples: step * 32,
            wall_s: step as f64 * 0.5,
            value: if step == steps {
                last
            } else {
                2.0 / step as f64 + last
            },
        })
        .collect()
}

fn accuracy_points(task: &str, steps: &[u64]) -> Vec<MetricPoint> {
    steps
        .iter()
        .map(|&step| MetricPoint {
            task: Some(task.into()),
            split: "dev".into(),
            name: "accuracy".into(),
            step,
            examples: step * 32,
            wall_s: step as f64 * 0.5,
            value: 0.5 + step as f64 / 100.0,
        })
        .collect()
}

fn new_run(name: &str, kind: RunKind) -> NewRun {
    NewRun {
        name: name.into(),
        kind,
        spec: serde_json::json!({ "name": name }),
        seed: Some(7),
        backend: "flex".into(),
        device: "cpu".into(),
    }
}

/// Two runs: a completed pre-finetuning run (40 loss points + 2 tasks x 4 accuracy
/// points = 48, last loss 0.5) and a later fine-tuning run still running (1,200 loss
/// points, last loss 1.25).
async fn seed_two_runs(home: &MuppetHome) -> anyhow::Result<(RunId, RunId)> {
    let store = Store::open(&home.db()).await?;
    let mixture = store
        .create_run(&new_run("glue-mixture-demo", RunKind::PreFinetune))
        .await?;
    let mut points = loss_points(40, 0.5);
    points.extend(accuracy_points("rte", &[10, 20, 30, 40]));
    points.extend(accuracy_points("mrpc", &[10, 20, 30, 40]));
    store.record_points(mixture, &points).await?;
    store.end_run(mixture, RunStatus::Completed, None).await?;

    let finetune = store
        .create_run(&new_run("rte-finetune", RunKind::Finetune))
        .await?;
    store
        .record_points(finetune, &loss_points(1200, 1.25))
        .await?;
    store.close().await;
    Ok((mixture, finetune))
}

/// The app running against `home`, reached through a WebDriver session.
struct StudioSession {
    client: Client,
    driver: TauriDriver,
}

impl StudioSession {
    async fn open(home: &Path, log_name: &str) -> anyhow::Result<Self> {
        require_display_and_webdriver()?;
        let app = app_binary()?;
        let log = artifact_dir("desktop-logs")?.join(log_name);
        let driver = TauriDriver::start(&[("MUPPET_HOME", home)], &log)?;
        let client = driver.connect(&app).await?;
        Ok(Self { client, driver })
    }

    /// Wait until the Runs page has settled into `state` (`loaded`, `empty`, `error`).
    async fn wait_for_runs_state(&self, state: &str) -> anyhow::Result<()> {
        let selector = format!("body[data-runs-state='{state}']");
        self.client
            .wait()
            .at_most(UI_WAIT)
            .for_element(Locator::Css(&selector))
            .await
            .with_context(|| {
                format!(
                    "the Runs page never reached `{state}`:\n{}",
                    self.driver.log_text()
                )
            })?;
        Ok(())
    }

    async fn text(&self, css: &str) -> anyhow::Result<String> {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("find {css}"))?;
        Ok(element.text().await?)
    }

    async fn is_displayed(&self, css: &str) -> anyhow::Result<bool> {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("find {css}"))?;
        Ok(element.is_displayed().await?)
    }

    async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let png = self
            .client
            .screenshot()
            .await
            .context("take a screenshot")?;
        let path = artifact_dir("screenshots")?.join(name);
        std::fs::write(&path, png).with_context(|| format!("write {}", path.display()))?;
        Ok(path)
    }

    /// End the session (the app closes), then stop tauri-driver with SIGTERM.
    async fn close(self) -> anyhow::Result<()> {
        let Self { client, driver } = self;
        let closed = client.close().await;
        drop(driver);
        closed.context("end the WebDriver session")
    }
}

struct ShownRun {
    id: String,
    cells: Vec<String>,
}

async fn shown_runs(client: &Client) -> anyhow::Result<Vec<ShownRun>> {
    let mut shown = Vec::new();
    for row in client
        .find_all(Locator::Css("#runs-table tr.run-row"))
        .await?
    {
        let id = row
            .attr("data-run-id")
            .await?
            .context("a run row without data-run-id")?;
        let mut cells = Vec::new();
        for cell in row.find_all(Locator::Css("td")).await? {
            cells.push(cell.text().await?);
        }
        shown.push(ShownRun { id, cells });
    }
    Ok(shown)
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// Columns: ID, Name, Kind, Status, Points, Last loss, Started.
fn assert_row(
    row: &ShownRun,
    id: RunId,
    name: &str,
    kind: &str,
    status: &str,
    points: &str,
    loss: &str,
) {
    let cells = &row.cells;
    assert_eq!(cells.len(), 7, "run {} has cells {cells:?}", row.id);
    assert_eq!(row.id, id.to_string());
    assert_eq!(cells[0], id.to_string());
    assert_eq!(cells[1], name);
    assert_eq!(cells[2], kind);
    assert_eq!(cells[3], status);
    assert_eq!(
        digits(&cells[4]),
        points,
        "points of {name}: {:?}",
        cells[4]
    );
    assert_eq!(cells[5], loss);
    let started = &cells[6];
    let shape_ok =
        started.len() == 16 && started.as_bytes()[4] == b'-' && started.as_bytes()[10] == b' ';
    assert!(
        shape_ok,
        "started of {name} is {started:?}, expected YYYY-MM-DD HH:MM"
    );
}

async fn within_limit(
    test: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<()> {
    let _one_app = one_app_at_a_time().await?;
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .context("the desktop test ran past its time limit")?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_page_lists_the_runs_of_the_database() -> anyhow::Result<()> {
    within_limit(async {
        let dir = tempfile::tempdir()?;
        let home = MuppetHome::at(dir.path());
        home.ensure()?;
        let (mixture, finetune) = seed_two_runs(&home).await?;

        let studio = StudioSession::open(home.root(), "runs.log").await?;
        studio.wait_for_runs_state("loaded").await?;
        let runs = shown_runs(&studio.client).await?;
        let shot = studio.screenshot("runs.png").await?;
        eprintln!("screenshot: {}", shot.display());

        assert_eq!(
            runs.len(),
            2,
            "rows shown: {:?}",
            runs.iter().map(|r| &r.cells).collect::<Vec<_>>()
        );
        // Newest first.
        assert_row(
            &runs[0],
            finetune,
            "rte-finetune",
            "Fine-tune",
            "Running",
            "1200",
            "1.250",
        );
        assert_row(
            &runs[1],
            mixture,
            "glue-mixture-demo",
            "Pre-finetune",
            "Completed",
            "48",
            "0.5000",
        );
        assert_eq!(studio.text("#runs-count").await?, "2 runs");
        ensure!(
            !studio.is_displayed("#error-banner").await?,
            "the error banner is shown"
        );
        ensure!(
            !studio.is_displayed("#runs-empty").await?,
            "the empty state is shown"
        );

        // The app was started with this test's MUPPET_HOME, not the user's data dir.
        let status_line = studio
            .client
            .wait()
            .at_most(UI_WAIT)
            .for_element(Locator::Css("#studio-info[data-home]"))
            .await?;
        let shown_home = status_line.attr("data-home").await?.unwrap_or_default();
        assert_eq!(Path::new(&shown_home), home.root());
        let info = status_line.prop("textContent").await?.unwrap_or_default();
        let db = home.db();
        ensure!(
            info.contains(&db.display().to_string()),
            "status line {info:?} does not name {}",
            db.display()
        );

        // The strict CSP of tauri.conf.json is in force: no eval in the page.
        let eval = studio
            .client
            .execute(
                "try { eval('1'); return 'allowed'; } catch (e) { return e.name; }",
                vec![],
            )
            .await?;
        assert_eq!(
            eval,
            serde_json::json!("EvalError"),
            "eval in the page was not blocked by the CSP"
        );

        // Refresh re-reads the database.
        studio
            .client
            .find(Locator::Css("#refresh-runs"))
            .await?
            .click()
            .await?;
        studio.wait_for_runs_state("loaded").await?;
        assert_eq!(shown_runs(&studio.client).await?.len(), 2);

        studio.close().await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_database_tells_the_user_to_run_the_demo() -> anyhow::Result<()> {
    within_limit(async {
        let dir = tempfile::tempdir()?;
        let studio = StudioSession::open(dir.path(), "runs-empty.log").await?;
        studio.wait_for_runs_state("empty").await?;
        ensure!(
            studio.is_displayed("#runs-empty").await?,
            "the empty state is hidden"
        );
        ensure!(
            !studio.is_displayed("#runs-table").await?,
            "an empty table is shown"
        );
        let message = studio.text("#runs-empty").await?;
        ensure!(
            message.contains("muppet demo"),
            "empty state says {message:?}"
        );
        studio.screenshot("runs-empty.png").await?;
        // The app created the database in the home it was given.
        ensure!(
            dir.path().join("muppet.db").is_file(),
            "no muppet.db in MUPPET_HOME"
        );
        studio.close().await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_cannot_be_opened_is_shown_not_a_crash() -> anyhow::Result<()> {
    within_limit(async {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("muppet.db"), vec![b'x'; 4096])?;
        let studio = StudioSession::open(dir.path(), "runs-error.log").await?;
        studio.wait_for_runs_state("error").await?;
        ensure!(
            studio.is_displayed("#error-banner").await?,
            "the error banner is hidden"
        );
        let message = studio.text("#error-message").await?;
        ensure!(
            message.contains("muppet.db"),
            "error banner says {message:?}"
        );
        let kind = studio
            .client
            .find(Locator::Css("#error-banner"))
            .await?
            .attr("data-kind")
            .await?;
        assert_eq!(kind.as_deref(), Some("store_open"));
        studio.screenshot("runs-error.png").await?;
        studio.close().await
    })
    .await
}
