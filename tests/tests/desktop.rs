//! The desktop app end to end: a real SQLite file written through muppet-store, the real
//! `muppet-studio` binary driven through tauri-driver + WebKitWebDriver.
//!
//! Needs an X display and the tools of `scripts/desktop-tools.sh`; run it as
//! `xvfb-run -a cargo test -p muppet-tests --test desktop`. Without them it fails with
//! a message saying what is missing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, ensure};
use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use muppet_core::{MetricPoint, MuppetHome, RunId, RunKind, RunStatus};
use muppet_store::{NewRun, Store};
use muppet_tests::cli::{muppet_bin, shared_assets};
use muppet_tests::desktop::{TauriDriver, app_binary, require_display_and_webdriver};
use muppet_tests::experiments::TINY_SETTINGS;
use muppet_tests::hub::{COMMIT, cache_repo, parquet, rotten_tomatoes_rows};
use muppet_tests::workspace::artifact_dir;

/// Upper bound of one whole test; a hung app or driver fails instead of blocking CI.
const TEST_LIMIT: Duration = Duration::from_secs(180);
/// The WebDriver key that submits a field.
const ENTER: &str = "\u{E007}";
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
        Self::open_with(&[("MUPPET_HOME", home)], log_name).await
    }

    /// The app with `env` added to its environment.
    /// The app on data folder `home` that can train: the shared assets and the `muppet`
    /// binary its workers run.
    async fn open_for_training(home: &Path, log_name: &str) -> anyhow::Result<Self> {
        let (assets, muppet) = (shared_assets(), muppet_bin());
        Self::open_with(&[("MUPPET_HOME", home), ("MUPPET_ASSETS", &assets), ("MUPPET_BIN", &muppet)], log_name).await
    }

    async fn open_with(env: &[(&str, &Path)], log_name: &str) -> anyhow::Result<Self> {
        require_display_and_webdriver()?;
        let app = app_binary()?;
        let log = artifact_dir("desktop-logs")?.join(log_name);
        let driver = TauriDriver::start(env, &log)?;
        let client = driver.connect(&app).await?;
        Ok(Self { client, driver })
    }

    /// Click an element as a person would: brought to the middle of the window first, clear
    /// of the app's header and status bar (WebDriver scrolls it only just into view).
    async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.click_centered(css).await
    }

    /// Click an element far down a page: brought to the middle of the window first, clear
    /// of the status bar.
    async fn click_centered(&self, css: &str) -> anyhow::Result<()> {
        let element = self.client.find(Locator::Css(css)).await.with_context(|| format!("find {css}"))?;
        self.client
            .execute("arguments[0].scrollIntoView({block: 'center'});", vec![serde_json::to_value(&element)?])
            .await
            .with_context(|| format!("scroll to {css}"))?;
        element.click().await.with_context(|| format!("click {css}"))?;
        Ok(())
    }

    /// Replace the value of an input as a person would: bring it to the middle of the
    /// window (clear of the status bar), clear it, then type.
    /// Pick the run-wide figure `value` of group `group` for the run page's right chart,
    /// then check its title and that it draws at least `points` points.
    async fn show_run_figure(&self, group: &str, value: &str, title: &str, points: u64) -> anyhow::Result<()> {
        let option = format!("#dev-metric optgroup[label='{group}'] option[value='{value}']");
        self.wait_for(&option, UI_WAIT, &format!("the right chart offers {value}")).await?;
        let pick = format!("const s = document.getElementById('dev-metric'); s.value = '{value}'; s.dispatchEvent(new Event('change'));");
        self.client.execute(&pick, vec![]).await?;
        read_settled(|| async {
            let shown = self.text("#dev-chart .chart-title").await?;
            ensure!(shown == title, "the right chart is titled {shown:?}, not {title:?}");
            let drawn = self.chart_points("#dev-chart").await?;
            ensure!(drawn >= points, "{value}: {drawn} points drawn, fewer than {points}");
            Ok(())
        })
        .await
    }

    /// Save the run page's chart `which` (`loss` or `right`) to `path` and wait until it is written.
    async fn save_run_chart(&self, which: &str, path: &Path) -> anyhow::Result<()> {
        let pick = format!("const s = document.getElementById('chart-which'); s.value = '{which}'; s.dispatchEvent(new Event('change'));");
        self.client.execute(&pick, vec![]).await?;
        self.type_into("#chart-path", &path.display().to_string()).await?;
        self.click_centered("#export-chart").await?;
        self.wait_for("#chart-result[data-state]", UI_WAIT, "the chart is saved").await?;
        let said = self.text("#chart-result").await?;
        ensure!(said.starts_with(&format!("Chart written to {}", path.display())), "saving the {which} chart: the app says {said:?}");
        Ok(())
    }

    async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let input = self
            .client
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("find {css}"))?;
        let element = serde_json::to_value(&input)?;
        self.client
            .execute("arguments[0].scrollIntoView({block: 'center'});", vec![element])
            .await
            .with_context(|| format!("scroll to {css}"))?;
        input.clear().await.with_context(|| format!("clear {css}"))?;
        input.send_keys(text).await.with_context(|| format!("type into {css}"))?;
        Ok(())
    }

    /// Wait for an element matching `css`, failing with `what` and the app's log.
    async fn wait_for(&self, css: &str, limit: Duration, what: &str) -> anyhow::Result<Element> {
        self.client
            .wait()
            .at_most(limit)
            .every(Duration::from_millis(100))
            .for_element(Locator::Css(css))
            .await
            .with_context(|| {
                format!(
                    "{what} (waited {limit:?} for {css}):\n{}",
                    self.driver.log_text()
                )
            })
    }

    /// The number of points a chart (`data-points` of its figure) draws.
    async fn chart_points(&self, css: &str) -> anyhow::Result<u64> {
        let figure = self.client.find(Locator::Css(css)).await?;
        Ok(figure
            .attr("data-points")
            .await?
            .and_then(|p| p.parse().ok())
            .unwrap_or(0))
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

/// Read part of the page with `read`, again while it fails, for at most [`UI_WAIT`]: the
/// live tables are drawn again as runs and forms change, and a read that meets an element
/// replaced meanwhile fails.
async fn read_settled<T, F: std::future::Future<Output = anyhow::Result<T>>>(mut read: impl FnMut() -> F) -> anyhow::Result<T> {
    let deadline = tokio::time::Instant::now() + UI_WAIT;
    loop {
        match read().await {
            Ok(value) => return Ok(value),
            Err(e) if tokio::time::Instant::now() > deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// The rows of the runs table.
async fn shown_runs(client: &Client) -> anyhow::Result<Vec<ShownRun>> {
    read_settled(|| read_runs_table(client)).await
}

async fn read_runs_table(client: &Client) -> anyhow::Result<Vec<ShownRun>> {
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

/// Columns: select, ID, Name, Kind, Tags, Status, Progress, Points, Last loss, Started.
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
    assert_eq!(cells.len(), 10, "run {} has cells {cells:?}", row.id);
    assert_eq!(row.id, id.to_string());
    assert_eq!(cells[1], id.to_string());
    assert_eq!(cells[2], name);
    assert_eq!(cells[3], kind);
    assert_eq!(cells[4], "", "no tags on {name}");
    assert_eq!(cells[5], status);
    assert_eq!(
        digits(&cells[7]),
        points,
        "points of {name}: {:?}",
        cells[7]
    );
    assert_eq!(cells[8], loss);
    let started = &cells[9];
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

        // Runs picked by their figures (the mixture's last rte dev accuracy is 0.9); a key no
        // run has is said under the field, and the table keeps every run.
        studio.type_into("#runs-where", &format!("RTE dev accuracy > 0.85{ENTER}")).await?;
        read_settled(|| async {
            let runs = shown_runs(&studio.client).await?;
            ensure!(runs.len() == 1 && runs[0].id == mixture.to_string(), "shown: {:?}", runs.iter().map(|r| &r.id).collect::<Vec<_>>());
            Ok(())
        })
        .await?;
        studio.type_into("#runs-where", &format!("rte dev accuracy > 0.95{ENTER}")).await?;
        read_settled(|| async {
            ensure!(shown_runs(&studio.client).await?.is_empty(), "no run has a last rte dev accuracy above 0.95");
            Ok(())
        })
        .await?;
        studio.type_into("#runs-where", &format!("lerning rate < 1{ENTER}")).await?;
        read_settled(|| async {
            let error = studio.text("#runs-where-error").await?;
            ensure!(error.contains("no run has `lerning rate`"), "the error says {error:?}");
            ensure!(shown_runs(&studio.client).await?.len() == 2, "every run is shown");
            Ok(())
        })
        .await?;
        studio.type_into("#runs-where", ENTER).await?;
        read_settled(|| async {
            ensure!(!studio.is_displayed("#runs-where-error").await?, "the error is gone with the filter");
            ensure!(shown_runs(&studio.client).await?.len() == 2, "every run is shown");
            Ok(())
        })
        .await?;

        // Runs grouped by a key: one row per value, each figure over the group's runs;
        // Select ticks a group's runs; a key no run has is said under the field.
        studio.type_into("#runs-group", &format!("name{ENTER}")).await?;
        studio.wait_for("#runs-groups[data-groups='2']", UI_WAIT, "the runs are grouped by name").await?;
        let mixture_group = format!("#runs-groups tr.group-row[data-runs='{mixture}']");
        let cell = studio.text(&format!("{mixture_group} td[data-figure='rte dev accuracy']")).await?;
        ensure!(cell == "0.9000 (1)", "the mixture's group reads {cell:?}");
        let other = studio.text(&format!("#runs-groups tr.group-row[data-runs='{finetune}'] td[data-figure='rte dev accuracy']")).await?;
        ensure!(other == "-", "the fine-tune has no rte dev accuracy: {other:?}");
        // A figure's heading orders the groups by its mean: a group without it goes last.
        for sorted in ["desc", "asc"] {
            studio.click("#runs-groups th[data-figure='rte dev accuracy']").await?;
            studio.wait_for(&format!("#runs-groups th[data-figure='rte dev accuracy'][data-sorted='{sorted}']"), UI_WAIT, "the groups are ordered").await?;
            let first = studio.client.execute("return document.querySelector('#runs-groups tr.group-row').dataset.runs;", vec![]).await?;
            ensure!(first == serde_json::json!(mixture.to_string()), "ordered {sorted}, the first group holds {first}");
        }
        // Best values: each figure's best in each run instead of its last, and back.
        studio.click("#runs-group-best").await?;
        read_settled(|| async {
            let best = studio.text(&format!("{mixture_group} td[data-figure='rte dev accuracy (best)']")).await?;
            ensure!(best.ends_with(" (1)") && best.starts_with("0."), "the best reads {best:?}");
            ensure!(studio.client.find_all(Locator::Css("#runs-groups th[data-figure='rte dev accuracy']")).await?.is_empty(), "the last values are not shown");
            Ok(())
        })
        .await?;
        studio.click("#runs-group-best").await?;
        studio.wait_for("#runs-groups th[data-figure='rte dev accuracy']", UI_WAIT, "the last values again").await?;
        studio.click_centered(&format!("{mixture_group} .group-select")).await?;
        read_settled(|| async {
            let ticked = studio.client.execute("return [...document.querySelectorAll('#runs-body input.run-select:checked')].map((b) => b.closest('tr').dataset.runId);", vec![]).await?;
            ensure!(ticked == serde_json::json!([mixture.to_string()]), "ticked: {ticked}");
            ensure!(studio.text("#delete-runs").await? == "Delete 1", "the group's run is selected");
            Ok(())
        })
        .await?;
        studio.type_into("#runs-group", &format!("nme{ENTER}")).await?;
        read_settled(|| async {
            let error = studio.text("#runs-group-error").await?;
            ensure!(error.contains("no run has `nme`"), "the error says {error:?}");
            ensure!(!studio.is_displayed("#runs-groups").await?, "no groups for a key no run has");
            Ok(())
        })
        .await?;
        studio.type_into("#runs-group", ENTER).await?;
        read_settled(|| async {
            ensure!(!studio.is_displayed("#runs-group-error").await? && !studio.is_displayed("#runs-groups").await?, "no groups without a key");
            Ok(())
        })
        .await?;

        // The runs shown plotted by two columns: the one with both figures placed, the other
        // left out and named; then the plot saved as SVG.
        studio.click("#runs-plot summary").await?;
        studio.wait_for("#plot-y option[value='rte dev accuracy']", UI_WAIT, "the plot offers the runs' figures").await?;
        let pick = "const x = document.getElementById('plot-x'); x.value = 'mrpc dev accuracy'; const y = document.getElementById('plot-y'); y.value = 'rte dev accuracy';";
        studio.client.execute(pick, vec![]).await?;
        studio.click_centered("#plot-runs").await?;
        studio.wait_for("#plot-image[data-plotted='1']", UI_WAIT, "the plot is drawn").await?;
        let said = studio.text("#plot-result").await?;
        ensure!(said == format!("1 run plotted; left out, without a value for both columns: #{finetune}."), "the plot says {said:?}");
        let plot_svg = dir.path().join("plot.svg");
        studio.type_into("#plot-path", &plot_svg.display().to_string()).await?;
        studio.click_centered("#save-plot").await?;
        read_settled(|| async {
            let said = studio.text("#plot-save-result").await?;
            ensure!(said.starts_with(&format!("Plot written to {}", plot_svg.display())), "saving the plot: {said:?}");
            Ok(())
        })
        .await?;
        let svg = std::fs::read_to_string(&plot_svg)?;
        ensure!(svg.contains(&format!("#{mixture}")) && svg.contains("Runs: rte dev accuracy against mrpc dev accuracy"), "the saved plot: {svg:.300}");
        // The plotted run read on hover, and opened from its point.
        let point = format!("#plot-points .plot-point[data-run='{mixture}']");
        let title = studio.wait_for(&point, UI_WAIT, "the plotted run is a point to hover").await?.attr("title").await?.unwrap_or_default();
        ensure!(title.starts_with(&format!("#{mixture} ")) && title.contains("mrpc dev accuracy 0.") && title.contains("rte dev accuracy 0."), "the point says {title:?}");
        ensure!(studio.client.find_all(Locator::Css("#plot-points .plot-point")).await?.len() == 1, "one point per run plotted");
        // The point is over the run's circle in the image (their centres within 3 of the
        // chart's 960 x 540 pixels), its layer over the chart inside the image's border.
        let off = read_settled(|| async {
            let off = studio
                .client
                .execute(
                    "const img = document.getElementById('plot-image'); if (!img.complete || img.naturalWidth === 0) return null;
                     const svg = decodeURIComponent(img.src.slice(img.src.indexOf(',') + 1));
                     const c = svg.match(/<circle cx=\"([-\\d.]+)\" cy=\"([-\\d.]+)\"/);
                     const b = document.querySelector('#plot-points .plot-point').getBoundingClientRect();
                     const r = img.getBoundingClientRect();
                     const l = document.getElementById('plot-points').getBoundingClientRect();
                     const layer = Math.max(Math.abs(l.left - r.left - 1), Math.abs(l.top - r.top - 1), Math.abs(l.width - r.width + 2), Math.abs(l.height - r.height + 2));
                     return [(b.left + b.width / 2 - r.left - 1) / (r.width - 2) * 960 - Number(c[1]), (b.top + b.height / 2 - r.top - 1) / (r.height - 2) * 540 - Number(c[2]), layer];",
                    vec![],
                )
                .await?;
            let off: Option<(f64, f64, f64)> = serde_json::from_value(off)?;
            off.context("the plot's image is not loaded yet")
        })
        .await?;
        ensure!(off.0.abs() < 3.0 && off.1.abs() < 3.0, "the point is ({}, {}) chart pixels off its circle", off.0, off.1);
        ensure!(off.2 < 1.0, "the points' layer is {} pixels off the chart inside the image's border", off.2);
        studio.click_centered(&point).await?;
        studio.wait_for("body[data-page='run'] #run-status", UI_WAIT, "the run page opens from the plot").await?;
        studio.click(".nav-item[data-page='runs']").await?;
        studio.wait_for_runs_state("loaded").await?;

        // Through several columns: the field starts with what the runs offer; the runs with
        // both figures drawn, the other named; the chart saved as PNG.
        studio.click("#runs-parallel summary").await?;
        read_settled(|| async {
            let columns = studio.client.execute("return document.getElementById('parallel-columns').value;", vec![]).await?;
            ensure!(columns.as_str().is_some_and(|c| c.ends_with("dev accuracy")), "the columns start as {columns}");
            Ok(())
        })
        .await?;
        studio.type_into("#parallel-columns", "mrpc dev accuracy, rte dev accuracy (best), rte dev accuracy").await?;
        studio.click_centered("#parallel-draw").await?;
        studio.wait_for("#parallel-image[data-plotted='1']", UI_WAIT, "the runs are drawn").await?;
        let said = studio.text("#parallel-result").await?;
        ensure!(said == format!("1 run drawn; left out, without a value for every column: #{finetune}."), "the drawing says {said:?}");
        // The drawn run's line read on hover, over the chart's own line, and opened on click.
        let line = format!("#parallel-lines polyline[data-run='{mixture}']");
        studio.wait_for(&line, UI_WAIT, "the drawn run is a line to hover").await?;
        let title = studio.client.execute(&format!("return document.querySelector(\"{line}\").textContent;"), vec![]).await?;
        let title = title.as_str().unwrap_or_default().to_string();
        ensure!(title.starts_with(&format!("#{mixture} ")) && title.contains("mrpc dev accuracy 0.") && title.contains("rte dev accuracy (best) 0."), "the line says {title:?}");
        let off = read_settled(|| async {
            let off = studio
                .client
                .execute(
                    "const img = document.getElementById('parallel-image'); if (!img.complete || img.naturalWidth === 0) return null;
                     const svg = decodeURIComponent(img.src.slice(img.src.indexOf(',') + 1));
                     const pairs = (text) => text.trim().split(/\\s+/).map((p) => p.split(',').map(Number));
                     const drawn = pairs(svg.match(/stroke-width=\"2\" points=\"([^\"]+)\"/)[1]);
                     const over = pairs(document.querySelector('#parallel-lines polyline').getAttribute('points'));
                     const l = document.getElementById('parallel-lines').getBoundingClientRect();
                     const r = img.getBoundingClientRect();
                     const layer = Math.max(Math.abs(l.left - r.left - 1), Math.abs(l.top - r.top - 1), Math.abs(l.width - r.width + 2), Math.abs(l.height - r.height + 2));
                     const off = Math.max(...drawn.map(([x, y], i) => Math.max(Math.abs(over[i][0] / 1000 * 960 - x), Math.abs(over[i][1] / 1000 * 540 - y))));
                     return [off, layer, drawn.length, over.length];",
                    vec![],
                )
                .await?;
            let off: Option<(f64, f64, usize, usize)> = serde_json::from_value(off)?;
            off.context("the drawing's image is not loaded yet")
        })
        .await?;
        ensure!(off.0 < 2.0 && off.1 < 1.0 && off.2 == 3 && off.3 == 3, "the line over the chart is {off:?} off (chart pixels, layer pixels, points drawn, points over)");
        studio.client.execute(&format!("document.querySelector(\"{line}\").dispatchEvent(new MouseEvent('click', {{ bubbles: true }}));"), vec![]).await?;
        studio.wait_for("body[data-page='run'] #run-status", UI_WAIT, "the run page opens from its line").await?;
        studio.click(".nav-item[data-page='runs']").await?;
        studio.wait_for_runs_state("loaded").await?;
        let lines_png = dir.path().join("lines.png");
        studio.type_into("#parallel-path", &lines_png.display().to_string()).await?;
        studio.click_centered("#save-parallel").await?;
        read_settled(|| async {
            let said = studio.text("#parallel-save-result").await?;
            ensure!(said.starts_with(&format!("Chart written to {}", lines_png.display())), "saving the chart: {said:?}");
            Ok(())
        })
        .await?;
        ensure!(std::fs::read(&lines_png)?.starts_with(b"\x89PNG"), "a PNG file");
        studio.type_into("#parallel-columns", "mrpc dev accuracy").await?;
        studio.click_centered("#parallel-draw").await?;
        read_settled(|| async {
            let said = studio.text("#parallel-result").await?;
            ensure!(said.contains("name two keys or more"), "one column: {said:?}");
            Ok(())
        })
        .await?;

        // The table as CSV: the runs shown, in its order (newest first), one row each.
        let table = dir.path().join("runs.csv");
        studio.click("#export-table summary").await?;
        studio.type_into("#export-table-path", &table.display().to_string()).await?;
        studio.click("#export-table-button").await?;
        read_settled(|| async {
            let said = studio.text("#export-table-result").await?;
            ensure!(said == "2 runs written.", "the export says {said:?}");
            Ok(())
        })
        .await?;
        let csv = std::fs::read_to_string(&table)?;
        let ids: Vec<&str> = csv.lines().skip(1).filter_map(|l| l.split(',').next()).collect();
        ensure!(csv.starts_with("run_id,name,kind,status") && ids == [finetune.to_string(), mixture.to_string()], "{csv}");
        ensure!(csv.lines().next().is_some_and(|head| head.contains("rte dev accuracy (best)")), "{csv}");

        // The filter and the grouping are kept per database: the app started again on this
        // data folder applies them to its runs.
        studio.type_into("#runs-where", &format!("rte dev accuracy > 0{ENTER}")).await?;
        studio.type_into("#runs-group", &format!("name{ENTER}")).await?;
        studio.wait_for(&format!("#runs-groups[data-groups='1'] tr.group-row[data-runs='{mixture}']"), UI_WAIT, "the filtered runs are grouped").await?;
        studio.close().await?;
        let studio = StudioSession::open(home.root(), "runs-again.log").await?;
        studio.wait_for_runs_state("loaded").await?;
        studio.wait_for(&format!("#runs-groups[data-groups='1'] tr.group-row[data-runs='{mixture}']"), UI_WAIT, "the grouping is applied again after a restart").await?;
        let kept = studio.client.execute("return [document.getElementById('runs-where').value, document.getElementById('runs-group').value];", vec![]).await?;
        ensure!(kept == serde_json::json!(["rte dev accuracy > 0", "name"]), "the fields after a restart: {kept}");
        let shown = shown_runs(&studio.client).await?;
        ensure!(shown.len() == 1 && shown[0].id == mixture.to_string(), "the filter is applied after a restart: {:?}", shown.iter().map(|r| &r.id).collect::<Vec<_>>());

        studio.close().await
    })
    .await
}

/// Which settings matter, from the Runs page: six fine-tunes of three learning rates and two
/// seeds (and one without a dev accuracy) weighed by their dev accuracy, the learning rate
/// first with the share the store's unit test computes; its row plots the runs by it; too
/// few runs shown are refused with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_that_matter_are_weighed_on_the_runs_page() -> anyhow::Result<()> {
    within_limit(async {
        let dir = tempfile::tempdir()?;
        let home = MuppetHome::at(dir.path());
        home.ensure()?;
        let store = Store::open(&home.db()).await?;
        let runs = [(1e-5, 1, Some(0.60)), (1e-5, 2, Some(0.62)), (1e-4, 1, Some(0.80)), (1e-4, 2, Some(0.78)), (1e-3, 1, Some(0.70)), (1e-3, 2, Some(0.72)), (1e-4, 3, None)];
        for (i, (lr, seed, accuracy)) in runs.into_iter().enumerate() {
            let name = format!("rte-lr{lr}-seed{seed}");
            let run = store.create_run(&NewRun { spec: serde_json::json!({ "name": name, "config": { "lr": lr, "seed": seed } }), ..new_run(&name, RunKind::Finetune) }).await?;
            let mut points = loss_points(4, 0.5 + i as f64 / 10.0);
            if let Some(value) = accuracy {
                points.push(MetricPoint { task: Some("rte".into()), split: "dev".into(), name: "accuracy".into(), step: 4, examples: 128, wall_s: 2.0, value });
            }
            store.record_points(run, &points).await?;
            store.end_run(run, RunStatus::Completed, None).await?;
        }
        store.close().await;

        let studio = StudioSession::open(home.root(), "importance.log").await?;
        studio.wait_for_runs_state("loaded").await?;
        studio.click("#runs-importance summary").await?;
        studio.wait_for("#importance-figure option[value='rte dev accuracy']", UI_WAIT, "the panel offers the runs' figures").await?;
        studio.client.execute("document.getElementById('importance-figure').value = 'rte dev accuracy';", vec![]).await?;
        studio.click_centered("#importance-run").await?;
        studio.wait_for("#importance-table tr.importance-row", UI_WAIT, "the settings are weighed").await?;
        let rows = studio.client.execute("return [...document.querySelectorAll('#importance-table tr.importance-row')].map((r) => [r.dataset.setting, r.dataset.importance, r.cells[2].textContent, r.cells[3].textContent]);", vec![]).await?;
        ensure!(rows == serde_json::json!([["learning rate", "0.97", "+0.48", "3 values"], ["seed", "0.00", "+0.10", "2 values"]]), "the rows: {rows}");
        let said = studio.text("#importance-result").await?;
        ensure!(said == "6 runs with a value of rte dev accuracy; 1 left out without one.", "the panel says {said:?}");
        let width = studio.client.execute("return document.querySelector('#importance-table tr.importance-row .importance-bar').style.width;", vec![]).await?;
        ensure!(width == "97%", "the learning rate's bar is {width}");
        let shot = studio.screenshot("importance.png").await?;
        eprintln!("screenshot: {}", shot.display());
        // Its row plots the runs by the learning rate against the figure.
        studio.click_centered("#importance-table tr.importance-row[data-setting='learning rate'] .importance-plot").await?;
        studio.wait_for("#plot-image[data-plotted='6']", UI_WAIT, "the runs are plotted by the setting").await?;
        let axes = studio.client.execute("return [document.getElementById('plot-x').value, document.getElementById('plot-y').value, document.getElementById('plot-log-x').checked];", vec![]).await?;
        ensure!(axes == serde_json::json!(["learning rate", "rte dev accuracy", true]), "the plot's axes: {axes} (learning rates over two decades on a log axis)");
        // Two runs shown say nothing of it.
        studio.type_into("#runs-where", &format!("learning rate < 5e-5{ENTER}")).await?;
        read_settled(|| async {
            ensure!(shown_runs(&studio.client).await?.len() == 2, "the filter keeps the two runs at 1e-5");
            Ok(())
        })
        .await?;
        studio.click_centered("#importance-run").await?;
        read_settled(|| async {
            let said = studio.text("#importance-result").await?;
            ensure!(said.contains("2 of the 2 runs given have a value of `rte dev accuracy`: at least 3 are needed"), "the panel says {said:?}");
            ensure!(studio.client.find_all(Locator::Css("#importance-table tr")).await?.is_empty(), "no table without an answer");
            Ok(())
        })
        .await?;
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
        // The first thing offered: the demo experiment, with its size and expected time
        // (experiments/demo.toml: 1 stage + 2 tasks x 5 sizes x 3 seeds x 2 starts).
        let offer = studio
            .wait_for(
                "#demo-offer[data-runs] button.demo-run",
                UI_WAIT,
                "the Runs page offers the demo experiment",
            )
            .await?;
        ensure!(offer.is_displayed().await?, "the demo button is hidden");
        let offer = studio.text("#demo-offer").await?;
        ensure!(
            offer.contains("61 runs (1 pre-finetuning, 60 fine-tunes)")
                && offer.contains("about 8 minutes on 2 CPU cores"),
            "the demo offer says {offer:?}"
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

/// The Tasks page's *Add* on a Muppet paper dataset: with the hub unreachable
/// (`HF_HUB_OFFLINE`), Rotten Tomatoes is read from a local hub cache holding the hub's
/// Parquet (written from the demo's real snippets), imported with its validation split as
/// the task it is scored on, and both listed; a dataset not in the cache says how to
/// download it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paper_dataset_is_added_from_the_tasks_page() -> anyhow::Result<()> {
    within_limit(async {
        let dir = tempfile::tempdir()?;
        let cache = tempfile::tempdir()?;
        let rows = rotten_tomatoes_rows(dir.path());
        let (train, validation) = rows.split_at(rows.len() - 500);
        cache_repo(
            cache.path(),
            "cornell-movie-review-data/rotten_tomatoes",
            "refs/convert/parquet",
            COMMIT,
            &[("default/train/0000.parquet", parquet(train)), ("default/validation/0000.parquet", parquet(validation))],
        );
        let assets = shared_assets();
        let offline = Path::new("1");
        let studio = StudioSession::open_with(
            &[("MUPPET_HOME", dir.path()), ("MUPPET_ASSETS", &assets), ("HF_HUB_CACHE", cache.path()), ("HF_HUB_OFFLINE", offline)],
            "tasks-add.log",
        )
        .await?;
        studio.wait_for_runs_state("empty").await?;
        studio.click(".nav-item[data-page='tasks']").await?;
        studio.wait_for("body[data-tasks-state='loaded']", TRAINING_WAIT, "the tasks load").await?;
        let row = "#paper-catalog-body tr[data-dataset='rotten_tomatoes']";
        studio.wait_for(&format!("{row} button.add-paper"), UI_WAIT, "the paper catalog lists Rotten Tomatoes").await?;

        // Not cached: the row says how to get it.
        studio.click_centered("#paper-catalog-body tr[data-dataset='sst2'] button.add-paper").await?;
        studio
            .wait_for("#paper-catalog-body tr[data-dataset='sst2'] .paper-add-result.error", TRAINING_WAIT, "adding sst2 fails")
            .await?;
        let said = studio.text("#paper-catalog-body tr[data-dataset='sst2'] .paper-add-result").await?;
        ensure!(said.contains("huggingface-cli download --repo-type dataset nyu-mll/glue"), "sst2 says {said:?}");

        studio.click_centered(&format!("{row} button.add-paper")).await?;
        studio.wait_for("#tasks-body tr[data-task='rotten_tomatoes']", TRAINING_WAIT, "Rotten Tomatoes is added and listed").await?;
        let said = studio.text(&format!("{row} .paper-add-result")).await?;
        ensure!(
            said.starts_with("Imported rotten_tomatoes:")
                && said.contains("rotten_tomatoes is scored on rotten_tomatoes_validation")
                && said.contains("read from the local Hugging Face cache"),
            "the row says {said:?}"
        );
        let imported = studio.text(&format!("{row} td.paper-imported")).await?;
        ensure!(imported == "yes (rotten_tomatoes, rotten_tomatoes_validation)", "the Imported column says {imported:?}");
        studio.wait_for("#tasks-body tr[data-task='rotten_tomatoes_validation']", UI_WAIT, "its validation split is listed").await?;
        // Its preview says which task scores it.
        studio.click_centered("#tasks-body tr[data-task='rotten_tomatoes'] button").await?;
        let split = studio
            .wait_for("#task-preview[data-task='rotten_tomatoes'] .task-split", UI_WAIT, "the preview opens")
            .await?
            .text()
            .await?;
        ensure!(split.contains("scored on task rotten_tomatoes_validation"), "the preview says {split:?}");
        studio.screenshot("tasks-add.png").await?;
        let listed = studio.text("#tasks-body tr[data-task='rotten_tomatoes']").await?;
        ensure!(listed.contains("rt_fresh_rotten 100%"), "the task row shows {listed:?}");
        let labels = studio
            .wait_for("#tasks-body tr[data-task='rotten_tomatoes'] td.labels", UI_WAIT, "the labels cell")
            .await?
            .attr("title")
            .await?;
        ensure!(labels.as_deref() == Some("neg, pos"), "the labels are {labels:?}");

        // Deleting the validation split takes the task scored on it along, after asking.
        studio.click_centered("#tasks-body tr[data-task='rotten_tomatoes_validation'] button").await?;
        let preview = "#task-preview[data-task='rotten_tomatoes_validation']";
        studio.wait_for(&format!("{preview} button.delete-task"), UI_WAIT, "an imported task's preview offers Delete").await?;
        studio.click(&format!("{preview} button.delete-task")).await?;
        let question = studio.wait_for(&format!("{preview} .delete-task-confirm"), UI_WAIT, "the deletion is asked about").await?.text().await?;
        ensure!(
            question.starts_with("Delete the imported task “rotten_tomatoes_validation” with “rotten_tomatoes”, which is scored on it ("),
            "the question says {question:?}"
        );
        studio.click(&format!("{preview} button.delete-task-yes")).await?;
        studio.wait_for("#tasks-result:not(:empty)", UI_WAIT, "the deletion's result is shown").await?;
        let said = studio.text("#tasks-result").await?;
        ensure!(said.starts_with("Deleted tasks “rotten_tomatoes”, “rotten_tomatoes_validation”: "), "the result says {said:?}");
        let listed = studio.text("#tasks-body").await?;
        ensure!(!listed.contains("rotten_tomatoes"), "the tasks are still listed: {listed}");
        let store = Store::open(&dir.path().join("muppet.db")).await?;
        let left = store.imported_tasks().await?;
        store.close().await;
        ensure!(left.is_empty(), "the store still has {} imported tasks", left.len());
        studio.close().await
    })
    .await
}

/// A child process killed when the test ends, however it ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A run trained from a terminal (`muppet prefinetune`, not a worker of the app) is shown
/// as trained outside the app, through its lock, and the app's Cancel stops it: the
/// process finishes its update, writes a checkpoint and ends the run `cancelled`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_trained_in_a_terminal_is_followed_and_cancelled_from_the_app() -> anyhow::Result<()> {
    within_limit(async {
        let dir = tempfile::tempdir()?;
        let assets = shared_assets();
        // Long enough never to finish by itself; killed if the test fails before its Cancel.
        let mut terminal = KillOnDrop(
            muppet_tests::cli::command(
                dir.path(),
                &["prefinetune", "--task", "sarcasm_headlines", "--steps", "100000", "--batch-size", "2", "--max-len", "32", "--dev-size", "8", "--eval-every", "0", "--json"],
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()?,
        );
        let mut stdout = terminal.0.stdout.take().context("stdout")?;
        // Wait until it trains: its run is stored with points.
        let db = dir.path().join("muppet.db");
        let deadline = tokio::time::Instant::now() + TRAINING_WAIT;
        let run = loop {
            ensure!(tokio::time::Instant::now() < deadline, "the terminal run never got going");
            ensure!(terminal.0.try_wait()?.is_none(), "the terminal run ended early");
            tokio::time::sleep(Duration::from_millis(200)).await;
            if !db.is_file() {
                continue;
            }
            let store = Store::open(&db).await?;
            let rows = store.list_runs().await?;
            store.close().await;
            if let Some(r) = rows.iter().find(|r| r.status == RunStatus::Running && r.points > 0) {
                break r.id;
            }
        };
        let studio = StudioSession::open_with(&[("MUPPET_HOME", dir.path()), ("MUPPET_ASSETS", &assets)], "run-elsewhere.log").await?;
        studio.wait_for_runs_state("loaded").await?;
        studio.click(&format!("#runs-body tr[data-run-id='{run}'] button.run-open")).await?;
        studio.wait_for("body[data-page='run'] #run-status[data-status='running']", UI_WAIT, "the run page opens").await?;
        let status = studio.text("#run-status").await?;
        ensure!(status == "Running (in a process outside the app)", "the status says {status:?}");
        studio.click("#cancel-run").await?;
        studio.wait_for("#run-status[data-status='cancelled']", TRAINING_WAIT, "the terminal run ends cancelled").await?;
        let mut said = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut said)?;
        ensure!(terminal.0.wait()?.success(), "the terminal process exits cleanly after one SIGTERM");
        let last = said.lines().last().unwrap_or_default().to_string();
        let summary: serde_json::Value = serde_json::from_str(&last)?;
        ensure!(summary["status"] == "cancelled", "the terminal says {summary}");
        let store = Store::open(&db).await?;
        let checkpoints = store.checkpoints(run).await?;
        store.close().await;
        ensure!(!checkpoints.is_empty(), "the cancelled run keeps a checkpoint");
        studio.close().await
    })
    .await
}

/// Two runs trained in a terminal on the same task are compared on the Runs page, then
/// their predictions on that task's dev examples, example by example (`muppet eval A B
/// --paired`): each run's figure is its own dev score, the right-and-wrong counts add up
/// to its predictions file, and the examples they predict differently are listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_predictions_are_compared_example_by_example() -> anyhow::Result<()> {
    within_limit(async {
        let dir = tempfile::tempdir()?;
        let assets = shared_assets();
        let mut runs = Vec::new();
        // After 30 updates at this rate the head tells some sarcastic headlines apart; after
        // one it calls them all not sarcastic: the two disagree on a few dev examples.
        for steps in ["1", "30"] {
            let out = muppet_tests::cli::muppet(
                dir.path(),
                &["prefinetune", "--task", "sarcasm_headlines", "--steps", steps, "--batch-size", "4", "--max-len", "32", "--dev-size", "16", "--lr", "1e-4", "--json"],
            );
            ensure!(out.status.success(), "prefinetune: {}", muppet_tests::cli::text(&out));
            runs.push(muppet_tests::cli::last_json(&out)["run_id"].as_i64().context("a run id")?);
        }
        let studio = StudioSession::open_with(&[("MUPPET_HOME", dir.path()), ("MUPPET_ASSETS", &assets)], "paired.log").await?;
        studio.wait_for_runs_state("loaded").await?;
        for run in &runs {
            studio.click(&format!("#runs-body tr[data-run-id='{run}'] input.run-select")).await?;
        }
        studio.click("#compare-runs").await?;
        studio.wait_for("#paired-section:not([hidden]) #paired-task option[value='sarcasm_headlines']", UI_WAIT, "Compare predictions offers the task both trained on").await?;
        studio.click("#paired-run").await?;
        studio.wait_for("#paired-result[data-state]", TRAINING_WAIT, "the comparison ends").await?;
        let said = studio.text("#paired-result").await?;
        ensure!(
            said.starts_with(&format!("16 examples both scored: run {} − run {} = ", runs[1], runs[0])) && said.contains("McNemar's exact test p = "),
            "the comparison says {said:?}"
        );
        // Each run's accuracy is its own last dev accuracy (the same checkpoint, the same examples).
        let store = Store::open(&dir.path().join("muppet.db")).await?;
        let mut dev = Vec::new();
        for run in &runs {
            let series = store.series(RunId(*run), Some("sarcasm_headlines"), "dev", "accuracy").await?;
            dev.push(series.last().context("a dev accuracy")?.1);
        }
        store.close().await;
        let cells = async |css: &str| -> anyhow::Result<Vec<String>> {
            let mut out = Vec::new();
            for cell in studio.client.find_all(Locator::Css(css)).await? {
                out.push(cell.text().await?);
            }
            Ok(out)
        };
        let metric = cells("#paired-figures tr[data-figure='metric'] td.num").await?;
        ensure!(metric.len() == 2, "the metric row reads {metric:?}");
        for (shown, stored) in metric.iter().zip(&dev) {
            ensure!((shown.parse::<f64>()? - stored).abs() < 5e-5, "shown {metric:?}, the runs' dev accuracies {dev:?}");
        }
        // Right counts add up to each run's predictions file.
        let right = cells("#paired-figures tr[data-figure='right'] td.num").await?;
        for (i, run) in runs.iter().enumerate() {
            let file = dir.path().join(format!("runs/{run}/predictions/sarcasm_headlines-eval-dev-step{}.jsonl", if i == 0 { 1 } else { 30 }));
            let written = std::fs::read_to_string(&file).with_context(|| format!("{}", file.display()))?;
            let correct = written.lines().filter(|l| l.contains("\"correct\":true")).count();
            ensure!(right[i] == correct.to_string(), "run {run}: {} right shown, {correct} in {}", right[i], file.display());
        }
        // The examples predicted differently: one row each, as many as the files disagree on.
        let differing = studio.client.find_all(Locator::Css("#paired-differing tr.paired-row")).await?.len();
        let predicted = |step: u64, run: i64| -> anyhow::Result<Vec<serde_json::Value>> {
            let text = std::fs::read_to_string(dir.path().join(format!("runs/{run}/predictions/sarcasm_headlines-eval-dev-step{step}.jsonl")))?;
            Ok(text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).map(|v| v["predicted"].clone())).collect::<Result<_, _>>()?)
        };
        let (first, second) = (predicted(1, runs[0])?, predicted(30, runs[1])?);
        let disagree = first.iter().zip(&second).filter(|(x, y)| x != y).count();
        ensure!(disagree > 0 && differing == disagree.min(20), "{differing} rows of examples predicted differently, the files differ on {disagree}");
        let caption = studio.text("#paired-differing caption").await?;
        ensure!(caption == format!("Predicted differently: {disagree}"), "the table's caption reads {caption:?}");
        studio.close().await
    })
    .await
}

/// A run bundled in another data folder (`muppet runs bundle`, as on a GPU server) is
/// imported from the Runs page of an empty app and appears in the table with its points.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_bundle_from_another_machine_is_imported_from_the_runs_page() -> anyhow::Result<()> {
    within_limit(async {
        let (server, desktop, files) = (tempfile::tempdir()?, tempfile::tempdir()?, tempfile::tempdir()?);
        let run = seed_completed_run(&MuppetHome::at(server.path())).await?;
        let bundle = files.path().join("from-the-server.tar");
        let out = muppet_tests::cli::muppet(server.path(), &["runs", "bundle", &run.0.to_string(), "--out", bundle.to_str().context("utf-8")?]);
        ensure!(out.status.success(), "bundle: {}", muppet_tests::cli::text(&out));

        let studio = StudioSession::open(desktop.path(), "import-run.log").await?;
        studio.wait_for_runs_state("empty").await?;
        studio.click("#import-run summary").await?;
        studio.type_into("#import-run-path", bundle.to_str().context("utf-8")?).await?;
        studio.click("#import-run-button").await?;
        studio.wait_for("#runs-body tr[data-run-id='1']", UI_WAIT, "the imported run is listed").await?;
        let said = studio.text("#import-run-result").await?;
        ensure!(said.starts_with(&format!("Imported run {run} of ")) && said.contains("as run 1 (\"earlier mixture\"): 44 metric points"), "the result says {said:?}");
        let shown = shown_runs(&studio.client).await?;
        ensure!(shown.len() == 1 && shown[0].cells.iter().any(|c| c == "earlier mixture"), "{} rows: {:?}", shown.len(), shown.first().map(|r| &r.cells));

        // Columns chosen from the menu: its last dev accuracy and a setting of its spec.
        studio.click_centered("#runs-columns summary").await?;
        // The columns are asked for as the menu first opens.
        studio.wait_for("#runs-columns-list input[data-column='metric:rt_fresh_rotten dev accuracy']", UI_WAIT, "the menu lists the run's dev accuracy").await?;
        studio.click("#runs-columns-list input[data-column='metric:rt_fresh_rotten dev accuracy']").await?;
        studio.click("#runs-columns-list input[data-column='param:batch size']").await?;
        // And the accuracy's best, beside its last value.
        studio.click("#runs-columns-list input[data-column='metric:rt_fresh_rotten dev accuracy (best)']").await?;
        read_settled(|| async {
            let row = "#runs-body tr[data-run-id='1']";
            let accuracy = studio.text(&format!("{row} td[data-column='metric:rt_fresh_rotten dev accuracy']")).await?;
            let best = studio.text(&format!("{row} td[data-column='metric:rt_fresh_rotten dev accuracy (best)']")).await?;
            let batch = studio.text(&format!("{row} td[data-column='param:batch size']")).await?;
            ensure!(accuracy == "0.9000" && batch == "4", "the columns show {accuracy:?} and {batch:?}");
            ensure!(best.parse::<f64>().is_ok_and(|b| b >= 0.9), "the best column shows {best:?}");
            Ok(())
        })
        .await?;
        studio.screenshot("runs-columns.png").await?;
        studio.click_centered("#runs-columns summary").await?;

        // Renamed on its page.
        studio.click("#runs-body tr[data-run-id='1'] button.run-open").await?;
        studio.wait_for("body[data-page='run'] #rename-run", UI_WAIT, "the run page opens").await?;
        studio.wait_for("#run-title", UI_WAIT, "the title").await?;
        read_settled(|| async { let t = studio.text("#run-title").await?; ensure!(t == "#1 earlier mixture", "the title says {t:?}"); Ok(()) }).await?;
        studio.click("#rename-run").await?;
        let input = studio.wait_for("#rename-input", UI_WAIT, "the rename form opens").await?;
        input.clear().await?;
        input.send_keys("earlier mixture, from the server").await?;
        studio.click("#rename-save").await?;
        read_settled(|| async { let t = studio.text("#run-title").await?; ensure!(t == "#1 earlier mixture, from the server", "the title says {t:?}"); Ok(()) }).await?;
        studio.click("#back-to-runs").await?;
        studio.wait_for_runs_state("loaded").await?;
        read_settled(|| async { let t = studio.text("#runs-body tr[data-run-id='1'] .run-name").await?; ensure!(t == "earlier mixture, from the server", "the table says {t:?}"); Ok(()) }).await?;

        // Deleted from the table: asked first, naming the run; Keep keeps it.
        studio.click("#runs-body tr[data-run-id='1'] input.run-select").await?;
        studio.click("#delete-runs").await?;
        studio.wait_for("#delete-confirm:not([hidden])", UI_WAIT, "the deletion is asked about").await?;
        let question = studio.text("#delete-confirm-text").await?;
        ensure!(question.starts_with("Delete run #1 “earlier mixture, from the server” for good?"), "the question says {question:?}");
        studio.click("#delete-confirm-no").await?;
        ensure!(!studio.is_displayed("#delete-confirm").await?, "Keep withdraws the question");
        let folder = desktop.path().join("runs/1");
        ensure!(folder.is_dir(), "Keep deletes nothing");
        studio.click("#delete-runs").await?;
        studio.wait_for("#delete-confirm:not([hidden])", UI_WAIT, "the deletion is asked about again").await?;
        studio.click("#delete-confirm-yes").await?;
        studio.wait_for_runs_state("empty").await?;
        let said = studio.text("#delete-result").await?;
        ensure!(said.starts_with("Deleted run 1: 44 metric points, 0 checkpoints"), "the result says {said:?}");
        ensure!(!folder.exists(), "the run's folder is gone");
        let store = Store::open(&desktop.path().join("muppet.db")).await?;
        let left = store.list_runs().await?;
        store.close().await;
        ensure!(left.is_empty(), "the store still has {left:?}");
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

/// Upper bound of the training test: two short trainings of the real model on two cores.
const TRAINING_TEST_LIMIT: Duration = Duration::from_secs(300);
/// How long one stretch of training (start, cancel, resume to the end) may take.
const TRAINING_WAIT: Duration = Duration::from_secs(120);

/// A completed run to compare the trained one with: 40 steps of loss, a few dev points.
async fn seed_completed_run(home: &MuppetHome) -> anyhow::Result<RunId> {
    let store = Store::open(&home.db()).await?;
    let mut run = new_run("earlier mixture", RunKind::PreFinetune);
    run.spec = serde_json::json!({ "tasks": ["rt_fresh_rotten"], "config": { "steps": 40, "batch_size": 4 } });
    let id = store.create_run(&run).await?;
    let mut points = loss_points(40, 0.6);
    points.extend(accuracy_points("rt_fresh_rotten", &[10, 20, 30, 40]));
    store.record_points(id, &points).await?;
    store.end_run(id, RunStatus::Completed, None).await?;
    store.close().await;
    Ok(id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mixture_trains_live_is_cancelled_resumed_exported_and_compared() -> anyhow::Result<()> {
    let _one_app = one_app_at_a_time().await?;
    let test = async {
        let dir = tempfile::tempdir()?;
        let home = MuppetHome::at(dir.path().join("home"));
        home.ensure()?;
        let earlier = seed_completed_run(&home).await?;
        let studio = StudioSession::open_for_training(home.root(), "training.log").await?;
        studio.wait_for_runs_state("loaded").await?;

        // Build a mixture of two demo tasks with tiny settings.
        studio.click(".nav-item[data-page='mixture']").await?;
        for task in ["sarcasm_headlines", "rt_fresh_rotten"] {
            let css = format!("#mixture-tasks label[data-task='{task}'] input");
            studio
                .wait_for(&css, UI_WAIT, "the mixture builder lists the demo tasks")
                .await?
                .click()
                .await?;
        }
        for (field, value) in [
            ("#steps", "40"),
            ("#batch-size", "2"),
            ("#tasks-per-update", "2"),
            ("#max-len", "32"),
            ("#dev-size", "8"),
            ("#eval-every", "10"),
            ("#checkpoint-every", "0"),
        ] {
            studio.type_into(field, value).await?;
        }
        studio.type_into("#run-name", "desktop e2e mixture").await?;
        studio.type_into("#mixture-tags", "e2e,  live  run ,").await?;
        studio.type_into("#mixture-note", "launched by the desktop test").await?;
        // The live summary: natural sampling, probabilities in proportion to the sizes.
        studio
            .wait_for(
                "#mixture-summary-body tr[data-task='rt_fresh_rotten']",
                UI_WAIT,
                "the mixture summary shows both tasks",
            )
            .await?;
        // The summary is drawn again as the form changes (each typed field asks for it).
        let total = read_settled(|| async {
            let mut total = 0.0;
            for row in studio.client.find_all(Locator::Css("#mixture-summary-body td.probability")).await? {
                total += row.text().await?.parse::<f64>()?;
            }
            anyhow::Ok(total)
        })
        .await
        .context("reading the mixture summary")?;
        ensure!(
            (total - 1.0).abs() < 0.01,
            "the probabilities add up to {total}"
        );
        // Each task's share of examples longer than the max length (32 tokens), as
        // `muppet tasks show --max-len 32` counts them.
        for task in ["sarcasm_headlines", "rt_fresh_rotten"] {
            let css = format!("#mixture-summary-body tr[data-task='{task}'] td.over[data-over]");
            let shown: f64 = studio.wait_for(&css, UI_WAIT, "the share over the max length").await?.attr("data-over").await?.unwrap_or_default().parse()?;
            let out = muppet_tests::cli::muppet(home.root(), &["tasks", "show", task, "--json", "--max-len", "32"]);
            ensure!(out.status.success(), "tasks show: {}", muppet_tests::cli::text(&out));
            let counted: serde_json::Value = serde_json::from_slice(&out.stdout)?;
            let over = counted["tokens"]["over"][0].clone();
            ensure!(over[0] == 32 && over[1].as_f64() == Some(shown), "{task}: the builder shows {shown}, tasks show counts {over}");
        }
        studio.screenshot("mixture.png").await?;

        // Launch: the run page opens and the loss curve grows from the worker's events.
        studio.click("#launch-run").await?;
        studio
            .wait_for(
                "body[data-page='run'] #run-status[data-status='running']",
                UI_WAIT,
                "the launched run is running",
            )
            .await?;
        studio
            .wait_for(
                "#loss-chart[data-points]:not([data-points='0'])",
                TRAINING_WAIT,
                "the loss chart gets its first points",
            )
            .await?;
        let first = studio.chart_points("#loss-chart").await?;
        let deadline = tokio::time::Instant::now() + TRAINING_WAIT;
        let grown = loop {
            let now = studio.chart_points("#loss-chart").await?;
            if now > first {
                break now;
            }
            ensure!(
                tokio::time::Instant::now() < deadline,
                "the loss chart stayed at {first} points:\n{}",
                studio.driver.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        studio.screenshot("run-live.png").await?;
        // The tags and the note typed with the mixture are the run's from its start.
        read_settled(|| async {
            let (tags, notes) = (studio.text("#run-tags").await?, studio.text("#run-notes").await?);
            ensure!(tags.contains("e2e") && tags.contains("live run"), "the run's tags read {tags:?}");
            ensure!(notes.contains("launched by the desktop test"), "the run's notes read {notes:?}");
            Ok(())
        })
        .await?;

        // Cancel: the worker finishes its update, writes a checkpoint and ends the run.
        studio.click("#cancel-run").await?;
        studio
            .wait_for(
                "#run-status[data-status='cancelled']",
                TRAINING_WAIT,
                "the run ends cancelled",
            )
            .await?;
        let progress = studio.client.find(Locator::Css("#run-progress")).await?;
        let cancelled_at: u64 = progress
            .attr("data-step")
            .await?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        ensure!(
            cancelled_at > 0 && cancelled_at < 40,
            "cancelled at step {cancelled_at}"
        );
        let run_id = digits(
            studio
                .text("#run-title")
                .await?
                .split_whitespace()
                .next()
                .unwrap_or_default(),
        );
        let run_dir = home.runs().join(&run_id);
        ensure!(
            run_dir
                .join(format!("model-step{cancelled_at}.mpk"))
                .is_file(),
            "no checkpoint at step {cancelled_at} in {}",
            run_dir.display()
        );

        // Resume: it continues from the checkpoint to the end. The run shows as cancelled as
        // soon as it is stored so, while its worker is still letting go (Resume stays disabled
        // until then): a click before that would do nothing.
        studio.wait_for("#resume-run:not(:disabled)", UI_WAIT, "Resume is offered once the worker has let go").await?;
        studio.click("#resume-run").await?;
        studio
            .wait_for(
                "#run-status[data-status='completed']",
                TRAINING_WAIT,
                "the resumed run completes",
            )
            .await?;
        let finished = studio.chart_points("#loss-chart").await?;
        ensure!(
            finished > grown,
            "the loss chart did not grow after resuming ({grown} -> {finished})"
        );
        studio.screenshot("run-completed.png").await?;

        // The right chart shows the learning rate the run recorded (a point per update)
        // instead of a dev metric, and the worker's memory (read every two seconds and
        // after the last update).
        studio.show_run_figure("Training", "train:lr", "Training: learning rate", 40).await?;
        studio.show_run_figure("System", "system:rss_mb", "System: memory (MB)", 1).await?;

        // Charts are saved as shown: the right chart (the memory), and the training loss
        // with a task hidden from its legend.
        let memory_svg = dir.path().join("memory.svg");
        studio.save_run_chart("right", &memory_svg).await?;
        // The SVG's texts, one per line.
        let texts = |svg: &str| svg.lines().map(|l| l.trim().to_string()).filter(|l| !l.starts_with('<')).collect::<Vec<_>>();
        let said = texts(&std::fs::read_to_string(&memory_svg)?);
        ensure!(said.iter().any(|t| t.starts_with(&format!("#{run_id} ")) && t.ends_with(": memory (MB)")), "the memory chart's texts: {said:?}");
        studio
            .client
            .execute(
                "[...document.querySelectorAll('#loss-chart .legend-item')].find((b) => b.textContent === 'rt_fresh_rotten').click();",
                vec![],
            )
            .await?;
        let loss_svg = dir.path().join("loss.svg");
        studio.save_run_chart("loss", &loss_svg).await?;
        let said = texts(&std::fs::read_to_string(&loss_svg)?);
        ensure!(
            said.iter().any(|t| t == "sarcasm_headlines") && !said.iter().any(|t| t == "rt_fresh_rotten") && said.iter().any(|t| t.ends_with(": training loss")),
            "the loss chart leaves out the hidden task: {said:?}"
        );

        // Export the last checkpoint as a Hugging Face folder.
        studio
            .wait_for(
                "#checkpoints tbody tr[data-step='40']",
                UI_WAIT,
                "the final checkpoint is listed",
            )
            .await?;
        let out = dir.path().join("exported");
        studio
            .type_into("#export-path", &out.display().to_string())
            .await?;
        studio.click("#export-checkpoint").await?;
        studio
            .wait_for(
                "#export-result[data-state]",
                TRAINING_WAIT,
                "the export ends",
            )
            .await?;
        let result = studio.text("#export-result").await?;
        for file in ["config.json", "model.safetensors"] {
            ensure!(
                out.join(file).is_file(),
                "no {file} in {} (the app says {result:?})",
                out.display()
            );
        }

        // One task's model: transformers' sequence classifier with the task's labels.
        let task_out = dir.path().join("exported-task");
        studio
            .client
            .execute(
                "const s = document.getElementById('export-task'); s.value = 'sarcasm_headlines'; s.dispatchEvent(new Event('change'));",
                vec![],
            )
            .await?;
        studio.type_into("#export-path", &task_out.display().to_string()).await?;
        studio.click("#export-checkpoint").await?;
        read_settled(|| async {
            let result = studio.text("#export-result").await?;
            ensure!(result.contains("as BertForSequenceClassification"), "the app says {result:?}");
            Ok(())
        })
        .await?;
        let config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(task_out.join("config.json"))?)?;
        ensure!(config["architectures"][0] == "BertForSequenceClassification" && config["id2label"]["0"].is_string(), "config.json: {config}");

        // Score the last checkpoint on a task's dev examples (`muppet eval`): the figure is
        // the run's own last dev accuracy, and it joins the run's metrics.
        studio
            .wait_for("#eval-panel #eval-task option[value='rt_fresh_rotten']", UI_WAIT, "the scoring form offers the run's tasks")
            .await?;
        studio
            .client
            .execute(
                "const s = document.getElementById('eval-task'); s.value = 'rt_fresh_rotten'; s.dispatchEvent(new Event('change'));",
                vec![],
            )
            .await?;
        studio
            .wait_for("#eval-examples option[value='train']", UI_WAIT, "a task of the run offers the examples it trained on")
            .await?;
        studio.click("#eval-run").await?;
        studio.wait_for("#eval-result[data-state]", TRAINING_WAIT, "the scoring ends").await?;
        let said = studio.text("#eval-result").await?;
        ensure!(said.contains("8 examples (the run's dev examples)") && said.contains("eval-dev"), "the app says {said:?}");
        let shown: f64 = studio.text("#eval-scores tr[data-metric='accuracy'] td.num").await?.parse()?;
        let interval = studio.text("#eval-scores tr[data-metric='accuracy'] td.interval").await?;
        let bounds: Vec<f64> = interval.split(" – ").map(str::parse).collect::<Result<_, _>>().with_context(|| format!("the interval reads {interval:?}"))?;
        ensure!(bounds.len() == 2 && bounds[0] <= shown && shown <= bounds[1], "the accuracy {shown} and its interval {interval:?}");
        let run = RunId(run_id.parse()?);
        let store = Store::open(&home.db()).await?;
        let scored = store.series(run, Some("rt_fresh_rotten"), "eval-dev", "accuracy").await?;
        let dev = store.series(run, Some("rt_fresh_rotten"), "dev", "accuracy").await?;
        store.close().await;
        ensure!(scored.len() == 1 && (scored[0].1 - shown).abs() < 5e-5, "stored {scored:?}, shown {shown}");
        ensure!(dev.last().is_some_and(|d| (d.1 - shown).abs() < 5e-5), "the run's dev accuracy {dev:?} against the score {shown}");
        // The score joins the dev chart as a series of its own, beside the dev curves.
        studio
            .client
            .execute("const s = document.getElementById('dev-metric'); s.value = 'accuracy'; s.dispatchEvent(new Event('change'));", vec![])
            .await?;
        read_settled(|| async {
            let legend = studio.text("#dev-chart .chart-legend").await?;
            ensure!(legend.contains("rt_fresh_rotten · dev, scored") && legend.contains("sarcasm_headlines"), "the dev chart's legend reads {legend:?}");
            Ok(())
        })
        .await?;
        let misses = studio.text("#eval-misses-title").await?;
        let rows = studio.client.find_all(Locator::Css("#eval-misses tbody tr")).await?.len();
        let wrong = (8.0 * (1.0 - shown)).round() as usize;
        ensure!(
            rows == wrong && (wrong == 0 || misses.starts_with(&format!("Wrong: {wrong} of 8"))),
            "{wrong} wrong predictions, {rows} listed under {misses:?}"
        );
        // The confusion matrix of the two classes adds up to the 8 examples, its diagonal to the accuracy.
        let mut cells = Vec::new();
        for cell in studio.client.find_all(Locator::Css("#eval-confusion tbody td")).await? {
            cells.push(cell.text().await?.parse::<usize>()?);
        }
        ensure!(cells.len() == 4 && cells.iter().sum::<usize>() == 8 && ((cells[0] + cells[3]) as f64 / 8.0 - shown).abs() < 5e-5, "the confusion matrix reads {cells:?}");
        studio.wait_for("#eval-classes tr[data-class='fresh']", UI_WAIT, "the per-class figures").await?;
        // A count of the matrix opens its examples: those of that gold and predicted class in
        // the predictions file.
        let (gold, predicted, count) = {
            let button = studio.client.find(Locator::Css("#eval-confusion button.cell-examples")).await?;
            let count: usize = button.text().await?.parse()?;
            let cell = button.find(Locator::XPath("..")).await?;
            let row = cell.find(Locator::XPath("..")).await?;
            (row.attr("data-gold").await?.unwrap_or_default(), cell.attr("data-predicted").await?.unwrap_or_default(), count)
        };
        studio.click("#eval-confusion button.cell-examples").await?;
        studio.wait_for(&format!("#eval-cell[data-gold='{gold}'][data-predicted='{predicted}']"), UI_WAIT, "the cell's examples").await?;
        let mut listed = Vec::new();
        for row in studio.client.find_all(Locator::Css("#eval-cell tr.cell-row")).await? {
            listed.push(row.attr("data-example").await?.unwrap_or_default());
        }
        let written = std::fs::read_to_string(home.run_dir(RunId(run_id.parse()?)).join("predictions/rt_fresh_rotten-eval-dev-step40.jsonl"))?;
        let expected: Vec<String> = written
            .lines()
            .map(serde_json::from_str::<serde_json::Value>)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|r| r["label"] == gold.as_str() && r["predicted"] == predicted.as_str())
            .map(|r| r["example"].to_string())
            .collect();
        ensure!(listed == expected && listed.len() == count, "the cell {gold}/{predicted} ({count}) lists {listed:?}, the file {expected:?}");
        // The calibration's bins hold the 8 examples, and their accuracies the score.
        let mut binned = Vec::new();
        for row in studio.client.find_all(Locator::Css("#eval-calibration tbody tr")).await? {
            let cells = row.find_all(Locator::Css("td")).await?;
            let (examples, accuracy) = (cells[1].text().await?.parse::<usize>()?, cells[3].text().await?.parse::<f64>()?);
            binned.push((examples, accuracy));
        }
        let right: f64 = binned.iter().map(|(n, a)| *n as f64 * a).sum();
        ensure!(binned.iter().map(|b| b.0).sum::<usize>() == 8 && (right / 8.0 - shown).abs() < 5e-3, "the calibration bins read {binned:?}, the accuracy {shown}");
        let caption = studio.text("#eval-calibration caption").await?;
        ensure!(caption.starts_with("Calibration: ECE "), "the calibration says {caption:?}");
        // The predictions file is among the run's files.
        studio
            .wait_for("#run-files tr[data-path='predictions/rt_fresh_rotten-eval-dev-step40.jsonl']", UI_WAIT, "the run's files list the predictions")
            .await?;
        studio.client.execute("document.getElementById('eval-panel').scrollIntoView()", vec![]).await?;
        studio.screenshot("eval.png").await?;

        // Try it (`muppet predict`): a dev example typed in gets the prediction the scoring
        // wrote for it, each class with its probability, the predicted one first.
        studio
            .wait_for("#predict-panel #predict-task option[value='rt_fresh_rotten']", UI_WAIT, "Try it offers the run's tasks")
            .await?;
        studio
            .client
            .execute("const s = document.getElementById('predict-task'); s.value = 'rt_fresh_rotten'; s.dispatchEvent(new Event('change'));", vec![])
            .await?;
        studio.click("#predict-run").await?;
        let asked = studio.text("#predict-result").await?;
        ensure!(asked == "Type the text.", "Try it with no text says {asked:?}");
        let written = std::fs::read_to_string(home.run_dir(run).join("predictions/rt_fresh_rotten-eval-dev-step40.jsonl"))?;
        let first: serde_json::Value = serde_json::from_str(written.lines().next().context("a prediction")?)?;
        studio.type_into("#predict-text", first["text"].as_str().context("a text")?).await?;
        studio.click("#predict-run").await?;
        studio.wait_for("#predict-result[data-state]", TRAINING_WAIT, "the prediction ends").await?;
        let said = studio.text("#predict-result").await?;
        let predicted = first["predicted"].as_str().context("a predicted class")?;
        ensure!(said.starts_with(&format!("{predicted} (p = ")) && said.contains("step 40"), "Try it says {said:?} of {first}");
        let rows = studio.client.find_all(Locator::Css("#predict-answer tr.predict-row")).await?;
        ensure!(rows.len() == 2, "{} classes listed", rows.len());
        let top = studio.client.find(Locator::Css("#predict-answer tr.predict-row.predicted")).await?;
        let label = top.attr("data-label").await?.unwrap_or_default();
        let shown: f64 = top.attr("data-probability").await?.unwrap_or_default().parse()?;
        let labels = ["fresh", "rotten"];
        let index = labels.iter().position(|l| *l == label).context("a label of the task")?;
        let written_p = first["probabilities"][index].as_f64().context("a probability")?;
        ensure!(label == predicted && (shown - written_p).abs() < 1e-5, "Try it shows {label} at {shown}, the scoring wrote {first}");

        // Fine-tune a downstream task from the run's last checkpoint: the fine-tune's page
        // opens, it trains to the end, and it is stored as a fine-tune of this run.
        studio
            .wait_for(
                "#finetune-panel #finetune-task option[value='winowhy']",
                UI_WAIT,
                "the fine-tune form offers winowhy",
            )
            .await?;
        studio
            .client
            .execute(
                "const s = document.getElementById('finetune-task'); s.value = 'winowhy'; s.dispatchEvent(new Event('change'));",
                vec![],
            )
            .await?;
        for (field, value) in [
            ("#finetune-train-size", "8"),
            ("#finetune-steps", "2"),
            ("#finetune-batch-size", "4"),
            ("#finetune-tags", "transfer"),
        ] {
            studio.type_into(field, value).await?;
        }
        studio.click("#finetune-launch").await?;
        let name = format!("fine-tune: winowhy n=8 from run {run_id}");
        let title = read_settled(|| async {
            let title = studio.text("#run-title").await?;
            ensure!(title.ends_with(&name), "the title says {title:?}");
            Ok(title)
        })
        .await?;
        let finetune = RunId(digits(title.split_whitespace().next().unwrap_or_default()).parse()?);
        studio
            .wait_for(
                "#run-status[data-status='completed']",
                TRAINING_WAIT,
                "the fine-tune completes",
            )
            .await?;
        let store = Store::open(&home.db()).await?;
        let row = store.run(finetune).await?;
        let tags = store.run_tags(finetune).await?;
        store.close().await;
        ensure!(
            row.kind == RunKind::Finetune && row.parent.map(|p| p.0.to_string()) == Some(run_id.clone()),
            "the fine-tune is stored as {row:?}"
        );
        ensure!(tags == ["transfer"], "the fine-tune's tags are {tags:?}");
        // A new fine-tune from its settings: the run it started from, its form filled.
        studio.click("#run-again").await?;
        read_settled(|| async {
            let title = studio.text("#run-title").await?;
            let said = studio.text("#finetune-result").await?;
            ensure!(title.starts_with(&format!("#{run_id} ")) && said.starts_with(&format!("The settings of fine-tune #{finetune}")), "the page says {title:?}, {said:?}");
            let values = studio
                .client
                .execute("return ['finetune-task', 'finetune-train-size', 'finetune-steps', 'finetune-batch-size', 'finetune-tags'].map((id) => document.getElementById(id).value);", vec![])
                .await?;
            ensure!(values == serde_json::json!(["winowhy", "8", "2", "4", ""]), "the form reads {values}");
            Ok(())
        })
        .await?;

        // Compare the trained run with the earlier one from the runs table.
        studio.click("#back-to-runs").await?;
        studio.wait_for_runs_state("loaded").await?;
        // The table is drawn again as the fine-tune's end arrives: tick until it shows ticked.
        for id in [earlier.to_string(), run_id.clone()] {
            let css = format!("#runs-body tr[data-run-id='{id}'] input.run-select");
            read_settled(|| async {
                let tick = studio.client.find(Locator::Css(&css)).await?;
                if !tick.is_selected().await? {
                    tick.click().await?;
                }
                let ticked = studio.client.find(Locator::Css(&css)).await?.is_selected().await?;
                ensure!(ticked, "run {id} is not ticked");
                Ok(())
            })
            .await?;
        }
        studio.click("#compare-runs").await?;
        let runs = format!("{},{}", earlier, run_id);
        studio
            .wait_for(
                &format!("#compare-panel[data-runs='{runs}']"),
                UI_WAIT,
                "the comparison opens",
            )
            .await?;
        let params = studio.text("#compare-params").await?;
        ensure!(
            params.contains("$.config.batch_size"),
            "compared parameters: {params:?}"
        );
        ensure!(
            studio.chart_points(".compare-chart").await? > 40,
            "the comparison chart has both losses"
        );
        studio.screenshot("compare.png").await?;

        // Chart a dev figure of both runs instead of the training loss.
        let series = r#"{"task":"rt_fresh_rotten","split":"dev","name":"accuracy"}"#;
        studio
            .wait_for(&format!("#compare-series option[value='{series}']"), UI_WAIT, "the comparison offers the dev accuracy")
            .await?;
        studio
            .client
            .execute(
                "const s = document.getElementById('compare-series'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));",
                vec![serde_json::Value::String(series.into())],
            )
            .await?;
        studio
            .wait_for("#compare-panel[data-series='rt_fresh_rotten dev accuracy']", UI_WAIT, "the dev accuracy is charted")
            .await?;
        let title = studio.text(".compare-chart .chart-title").await?;
        ensure!(title == "rt_fresh_rotten dev accuracy", "the chart is titled {title:?}");
        ensure!(studio.chart_points(".compare-chart").await? >= 4, "the chart has both runs' dev points");
        let compared_png = dir.path().join("compared.png");
        studio.type_into("#compare-chart-path", &compared_png.display().to_string()).await?;
        studio.click_centered("#save-compare-chart").await?;
        read_settled(|| async {
            let said = studio.text("#compare-chart-result").await?;
            ensure!(said.starts_with("Chart written to"), "the app says {said:?}");
            Ok(())
        })
        .await?;
        ensure!(std::fs::read(&compared_png)?.starts_with(b"\x89PNG\r\n\x1a\n"), "{} is not a PNG", compared_png.display());

        // A new run from the trained run's settings: the mixture builder opens with its tasks
        // and settings, named after it.
        studio.click(&format!("#runs-body tr[data-run-id='{run_id}'] button.run-open")).await?;
        studio.wait_for("body[data-page='run'] #run-again:not([hidden])", UI_WAIT, "a pre-finetuning run offers a new run from its settings").await?;
        studio.click("#run-again").await?;
        studio.wait_for("body[data-page='mixture']", UI_WAIT, "the mixture builder opens").await?;
        read_settled(|| async {
            let values = studio
                .client
                .execute("return ['run-name', 'steps', 'max-len'].map((id) => document.getElementById(id).value);", vec![])
                .await?;
            let (name, steps, max_len) = (values[0].clone(), values[1].clone(), values[2].clone());
            ensure!(name == "desktop e2e mixture (again)" && steps == "40" && max_len == "32", "the form reads {name}, {steps} steps, length {max_len}");
            let ticked = studio.client.find_all(Locator::Css("#mixture-tasks input[name=task]:checked")).await?.len();
            ensure!(ticked == 2, "{ticked} tasks ticked");
            Ok(())
        })
        .await?;
        studio.close().await
    };
    tokio::time::timeout(TRAINING_TEST_LIMIT, test)
        .await
        .context("the training test ran past its time limit")?
}

/// Upper bound of the experiment test: five tiny runs of the real model, then the report.
const EXPERIMENT_TEST_LIMIT: Duration = Duration::from_secs(300);
const EXPERIMENT_WAIT: Duration = Duration::from_secs(200);

/// A sample-efficiency experiment small enough for a test: one pre-finetuning stage on two
/// demo tasks (3 updates), then winowhy fine-tuned on 8 and 16 examples (2 updates), one
/// seed, from the base model and from the stage: 5 runs.
fn tiny_experiment() -> String {
    format!(
        r#"name = "desktop-e2e"
{TINY_SETTINGS}
[[stages]]
name = "pft"
tasks = ["sarcasm_headlines", "rt_fresh_rotten"]

[sample_efficiency]
tasks = ["winowhy"]
sizes = [8, 16]
seeds = 1
starts = ["base", "pft"]
"#
    )
}

/// `muppet experiment run` of `spec` (a spec's text) in `dir`, as in a terminal, which must
/// succeed: what it printed.
fn experiment_in_a_terminal(dir: &Path, spec: &str, args: &[&str]) -> anyhow::Result<String> {
    let path = dir.join("spec.toml");
    std::fs::write(&path, spec)?;
    let mut argv = vec!["experiment", "run", "--spec", path.to_str().context("utf-8 path")?];
    argv.extend_from_slice(args);
    let out = muppet_tests::cli::muppet(dir, &argv);
    let said = muppet_tests::cli::text(&out);
    ensure!(out.status.success(), "{said}");
    Ok(said)
}

/// A random search run in a terminal draws more settings from its card in the app: the
/// settings drawn first stay, the new one trains, and the card counts them all; then one more
/// guided by the scores, proposed and kept in the stored spec.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_random_search_draws_more_settings_from_its_card() -> anyhow::Result<()> {
    within_limit(async {
        let dir = tempfile::tempdir()?;
        experiment_in_a_terminal(
            dir.path(),
            &format!(
                "name = \"random\"\n{}\n[sweep]\ntasks = [\"winowhy\"]\nseeds = 1\ntrain_size = 16\ncount = 4\n\n[sweep.random]\nlr = {{ min = 1e-5, max = 1e-3, distribution = \"log_uniform_values\" }}\n",
                muppet_tests::experiments::TINY_SETTINGS
            ),
            &[],
        )?;
        let db = dir.path().join("muppet.db");
        let first = {
            let store = Store::open(&db).await?;
            let runs = store.list_runs().await?;
            store.close().await;
            ensure!(runs.len() == 4, "{runs:?}");
            runs[0].clone()
        };
        let studio = StudioSession::open_for_training(dir.path(), "random-search.log").await?;
        studio.click(".nav-item[data-page='experiments']").await?;
        let card = "section.experiment[data-experiment-name='random']";
        studio.wait_for(&format!("{card}[data-state='completed'] button.draw-more"), UI_WAIT, "the random search offers to draw more").await?;
        studio.type_into(&format!("{card} input.more-settings"), "1").await?;
        studio.click(&format!("{card} button.draw-more")).await?;
        studio.wait_for(&format!("{card}[data-state='completed'][data-done='5']"), EXPERIMENT_WAIT, "the new setting is trained").await?;
        let store = Store::open(&db).await?;
        let runs = store.list_runs().await?;
        let experiment = store.list_experiments().await?;
        store.close().await;
        ensure!(runs.len() == 5 && runs.iter().any(|r| r.id == first.id && r.name == first.name), "the first setting stays: {runs:?}");
        ensure!(experiment[0].spec["sweep"]["count"] == 5, "the stored spec draws 5: {}", experiment[0].spec);
        // One more, guided by the five settings' scores.
        studio.type_into(&format!("{card} input.more-settings"), "1").await?;
        studio.click(&format!("{card} input.draw-guided")).await?;
        studio.click(&format!("{card} button.draw-more")).await?;
        studio.wait_for(&format!("{card}[data-state='completed'][data-done='6']"), EXPERIMENT_WAIT, "the proposed setting is trained").await?;
        let store = Store::open(&db).await?;
        let experiment = store.list_experiments().await?;
        store.close().await;
        let sweep = &experiment[0].spec["sweep"];
        ensure!(sweep["count"] == 5 && sweep["proposed"].as_array().map(Vec::len) == Some(1), "the stored spec proposes 1: {sweep}");
        studio.close().await
    })
    .await
}

/// A sweep whose rule stopped a run (trained in a terminal, as the experiment test's sweep):
/// its card says so beside the runs completed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweeps_card_counts_the_runs_its_rule_stopped() -> anyhow::Result<()> {
    within_limit(async {
        let dir = tempfile::tempdir()?;
        let said = experiment_in_a_terminal(dir.path(), &format!("name = \"pruned\"\n{}", muppet_tests::experiments::PRUNED_SWEEP), &["--parallel", "1"])?;
        ensure!(said.contains("(1 stopped early by the sweep's rule)"), "{said}");
        let studio = StudioSession::open_for_training(dir.path(), "pruned-sweep.log").await?;
        studio.click(".nav-item[data-page='experiments']").await?;
        let card = "section.experiment[data-experiment-name='pruned']";
        studio.wait_for(&format!("{card}[data-state='completed']"), UI_WAIT, "the sweep's card").await?;
        let progress = studio.text(&format!("{card} .experiment-progress")).await?;
        ensure!(progress.contains("2 of 2 runs completed · 1 stopped early by the sweep's rule"), "the card says {progress:?}");
        studio.close().await
    })
    .await
}

/// A baseline from the Tasks page: the pretrained model fine-tuned on a downstream task
/// trains to the end, is stored with no parent, and runs again from its page with the same
/// settings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pretrained_model_is_fine_tuned_from_the_tasks_page() -> anyhow::Result<()> {
    within_limit(async {
        let dir = tempfile::tempdir()?;
        let studio = StudioSession::open_for_training(dir.path(), "base-finetune.log").await?;
        studio.wait_for_runs_state("empty").await?;
        studio.click(".nav-item[data-page='tasks']").await?;
        studio.wait_for("body[data-tasks-state='loaded']", TRAINING_WAIT, "the tasks load").await?;
        studio.click_centered("#tasks-body tr[data-task='winowhy'] button.link").await?;
        studio.wait_for("#task-preview[data-task='winowhy'] #base-finetune", UI_WAIT, "the task offers a fine-tune of the pretrained model").await?;
        // Its lengths in tokens, as `muppet tasks show` measures them.
        let line = studio.wait_for("#task-preview[data-task='winowhy'] .task-tokens[data-state='done']", UI_WAIT, "the token lengths").await?;
        let shown = line.text().await?;
        let out = muppet_tests::cli::muppet(dir.path(), &["tasks", "show", "winowhy", "--json"]);
        ensure!(out.status.success(), "tasks show: {}", muppet_tests::cli::text(&out));
        let counted: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        let (p50, max) = (&counted["tokens"]["lengths"]["p50"], &counted["tokens"]["lengths"]["max"]);
        ensure!(shown.starts_with(&format!("Tokens: median {p50}, ")) && shown.contains(&format!(", longest {max}. Longer than 64: ")), "the preview says {shown:?}, tasks show counts {}", counted["tokens"]);
        studio.click("#base-finetune summary").await?;
        // A bad value is named, and nothing is launched.
        studio.type_into("#base-ft-steps", "0").await?;
        studio.click("#base-ft-launch").await?;
        read_settled(|| async {
            let said = studio.text("#base-ft-problems").await?;
            ensure!(said.contains("Updates must be a whole number of at least 1"), "the form says {said:?}");
            Ok(())
        })
        .await?;
        for (field, value) in [("#base-ft-train-size", "8"), ("#base-ft-steps", "2"), ("#base-ft-batch-size", "4"), ("#base-ft-tags", "baseline")] {
            studio.type_into(field, value).await?;
        }
        studio.click("#base-ft-launch").await?;
        let title = read_settled(|| async {
            let title = studio.text("#run-title").await?;
            ensure!(title.ends_with("fine-tune: winowhy n=8"), "the title says {title:?}");
            Ok(title)
        })
        .await?;
        let run = RunId(digits(title.split_whitespace().next().unwrap_or_default()).parse()?);
        studio.wait_for("#run-status[data-status='completed']", TRAINING_WAIT, "the baseline completes").await?;
        let store = Store::open(&dir.path().join("muppet.db")).await?;
        let (row, spec, tags) = (store.run(run).await?, store.run_spec(run).await?, store.run_tags(run).await?);
        store.close().await;
        ensure!(row.kind == RunKind::Finetune && row.parent.is_none() && spec["init"]["from"] == "base", "stored as {row:?} with {spec}");
        ensure!(spec["config"]["steps"] == 2 && spec["config"]["train_size"] == 8 && spec["config"]["batch_size"] == 4 && tags == ["baseline"], "{spec} {tags:?}");
        // Again from its page: the Tasks page, the task shown, the form filled (tags left empty).
        studio.click("#run-again").await?;
        read_settled(|| async {
            let said = studio.text("#base-ft-result").await?;
            ensure!(said.starts_with(&format!("The settings of fine-tune #{}", run.0)), "the form says {said:?}");
            let values = studio
                .client
                .execute("return ['base-ft-train-size', 'base-ft-steps', 'base-ft-batch-size', 'base-ft-tags', 'base-ft-model-choice'].map((id) => document.getElementById(id).value);", vec![])
                .await?;
            ensure!(values == serde_json::json!(["8", "2", "4", "", "default"]), "the form reads {values}");
            ensure!(studio.is_displayed("#task-preview[data-task='winowhy'] #base-finetune[open]").await?, "the form is open on winowhy");
            Ok(())
        })
        .await?;
        studio.screenshot("base-finetune.png").await?;
        studio.close().await
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_experiment_is_launched_followed_and_reported_from_the_app() -> anyhow::Result<()> {
    let _one_app = one_app_at_a_time().await?;
    let test = async {
        let dir = tempfile::tempdir()?;
        let home = MuppetHome::at(dir.path().join("home"));
        home.ensure()?;
        let spec = dir.path().join("desktop-e2e.toml");
        std::fs::write(&spec, tiny_experiment())?;
        let studio = StudioSession::open_for_training(home.root(), "experiment.log").await?;
        studio.wait_for_runs_state("empty").await?;

        // Launch the spec from the Experiments page (a typed path: WebDriver cannot drive
        // the native file dialog behind "Browse…").
        studio.click(".nav-item[data-page='experiments']").await?;
        studio
            .wait_for(
                "#experiments-demo button.demo-run",
                UI_WAIT,
                "the Experiments page offers the demo",
            )
            .await?;

        // The builder makes a batching / loss-scaling ablation: its plan is checked by the
        // library as the fields change (3 batchings x 2 scalings, each fine-tuned on winowhy,
        // and the base model).
        studio.wait_for("#builder-design", UI_WAIT, "the experiment builder").await?;
        studio
            .client
            .execute("const s = document.getElementById('builder-design'); s.value = 'batching_ablation'; s.dispatchEvent(new Event('change', { bubbles: true }));", vec![])
            .await?;
        studio.type_into("#builder-name", "ablation").await?;
        studio.type_into("#builder-mixture", "rt_fresh_rotten, sarcasm_headlines").await?;
        studio.type_into("#builder-ba-downstream", "winowhy").await?;
        studio.type_into("#builder-ba-seeds", "1").await?;
        // Temperature sampling, R3F and head reuse, as the library reads them back.
        studio.click("#experiment-builder .builder-training summary").await?;
        studio
            .client
            .execute("const s = document.getElementById('builder-sampling'); s.value = 'temperature'; s.dispatchEvent(new Event('change', { bubbles: true }));", vec![])
            .await?;
        studio.click("#builder-r3f").await?;
        studio.click("#builder-reuse-heads").await?;
        let plan = read_settled(|| async {
            let runs = studio.client.find(Locator::Css("#experiment-builder")).await?.attr("data-runs").await?.unwrap_or_default();
            ensure!(runs == "13", "the builder's plan has {runs:?} runs: {}", studio.text("#experiment-builder").await.unwrap_or_default());
            Ok(runs)
        })
        .await?;
        ensure!(plan == "13");
        let toml = read_settled(|| async {
            let toml = studio.client.find(Locator::Css("#builder-toml")).await?.prop("textContent").await?.unwrap_or_default();
            ensure!(toml.contains("reuse_heads = true"), "the spec reads back as:\n{toml}");
            Ok(toml)
        })
        .await?;
        ensure!(toml.contains("kind = \"temperature\"") && toml.contains("t = 2\n") && toml.contains("[finetune.r3f]"), "the spec reads back as:\n{toml}");
        // A sweep of fine-tuning settings: 3 learning rates x 2 batch sizes, winowhy, 2 seeds.
        studio
            .client
            .execute("const s = document.getElementById('builder-design'); s.value = 'sweep'; s.dispatchEvent(new Event('change', { bubbles: true }));", vec![])
            .await?;
        studio.type_into("#builder-sw-tasks", "winowhy").await?;
        studio.type_into("#builder-sw-seeds", "2").await?;
        let toml = read_settled(|| async {
            let runs = studio.client.find(Locator::Css("#experiment-builder")).await?.attr("data-runs").await?.unwrap_or_default();
            let toml = studio.client.find(Locator::Css("#builder-toml")).await?.prop("textContent").await?.unwrap_or_default();
            ensure!(runs == "12" && toml.contains("[sweep.grid]"), "the builder's plan has {runs:?} runs; the spec reads:\n{toml}");
            Ok(toml)
        })
        .await?;
        ensure!(toml.contains("start = \"base\"") && toml.contains("batch_size = [8, 16]"), "the spec reads back as:\n{toml}");
        // Pre-finetuning first, swept too: two stages (K = 1, 2), each fine-tuned with the 6 settings and 2 seeds.
        studio.type_into("#builder-sw-stage-tasks", "rt_fresh_rotten, sarcasm_headlines").await?;
        studio.type_into("#builder-sw-stage-k", "1, 2").await?;
        read_settled(|| async {
            let runs = studio.client.find(Locator::Css("#experiment-builder")).await?.attr("data-runs").await?.unwrap_or_default();
            let toml = studio.client.find(Locator::Css("#builder-toml")).await?.prop("textContent").await?.unwrap_or_default();
            ensure!(
                runs == "26" && toml.contains("[sweep.stage_grid]") && toml.contains("tasks_per_update = [1, 2]") && toml.contains("start = \"pft\""),
                "the builder's plan has {runs:?} runs; the spec reads:\n{toml}"
            );
            Ok(())
        })
        .await?;
        // A random search instead of the grid: 3 settings drawn (a learning rate range, on a
        // log scale), from each of the two stages, 2 seeds.
        studio
            .client
            .execute("const s = document.getElementById('builder-sweep-search'); s.value = 'random'; s.dispatchEvent(new Event('change', { bubbles: true }));", vec![])
            .await?;
        studio.type_into("#builder-sw-count", "3").await?;
        studio.type_into("#builder-sw-lr", "1e-5 .. 1e-3").await?;
        read_settled(|| async {
            let runs = studio.client.find(Locator::Css("#experiment-builder")).await?.attr("data-runs").await?.unwrap_or_default();
            let toml = studio.client.find(Locator::Css("#builder-toml")).await?.prop("textContent").await?.unwrap_or_default();
            ensure!(
                runs == "14" && toml.contains("count = 3") && toml.contains("log_uniform_values") && !toml.contains("[sweep.grid]\nlr"),
                "the builder's plan has {runs:?} runs; the spec reads:\n{toml}"
            );
            Ok(())
        })
        .await?;
        // Compared with the base model: the 3 settings from it too, 2 seeds.
        studio.click("#builder-sw-compare-base").await?;
        read_settled(|| async {
            let runs = studio.client.find(Locator::Css("#experiment-builder")).await?.attr("data-runs").await?.unwrap_or_default();
            let toml = studio.client.find(Locator::Css("#builder-toml")).await?.prop("textContent").await?.unwrap_or_default();
            ensure!(runs == "20" && toml.contains("compare_base = true"), "the builder's plan has {runs:?} runs; the spec reads:\n{toml}");
            Ok(())
        })
        .await?;
        // Stopping the runs that fall behind needs dev scores during training: refused, saying
        // so, until the fine-tunes take them every so many updates; then the spec has it.
        studio.click("#builder-sw-early-terminate").await?;
        read_settled(|| async {
            let errors = studio.text("[data-errors-for='sweep.early_terminate']").await?;
            ensure!(errors.contains("compares the runs' dev scores during training"), "the field says {errors:?}");
            Ok(())
        })
        .await?;
        // (The training settings are open since the settings above.)
        studio.type_into("#builder-ft-best-every", "1").await?;
        studio.type_into("#builder-sw-min-runs", "2").await?;
        read_settled(|| async {
            let toml = studio.client.find(Locator::Css("#builder-toml")).await?.prop("textContent").await?.unwrap_or_default();
            let errors = studio.text("[data-errors-for='sweep.early_terminate']").await?;
            ensure!(
                errors.is_empty() && toml.contains("[sweep.early_terminate]") && toml.contains("rule = \"median\"") && toml.contains("min_runs = 2") && toml.contains("eval_every = 1"),
                "the field says {errors:?}; the spec reads:\n{toml}"
            );
            Ok(())
        })
        .await?;
        studio
            .client
            .execute("const i = document.getElementById('builder-ft-best-every'); i.value = ''; i.dispatchEvent(new Event('input', { bubbles: true }));", vec![])
            .await?;
        studio.click("#builder-sw-early-terminate").await?;
        studio
            .type_into("#experiment-spec", &spec.display().to_string())
            .await?;
        studio.click("#run-experiment").await?;
        let card = "section.experiment[data-experiment-name='desktop-e2e']";

        // Follow it: the page refreshes itself while it runs, until all 5 runs are done.
        studio
            .wait_for(
                &format!("{card}[data-state='running']"),
                EXPERIMENT_WAIT,
                "the experiment shows as running",
            )
            .await?;
        let completed = studio
            .wait_for(
                &format!("{card}[data-state='completed']"),
                EXPERIMENT_WAIT,
                "the experiment completes",
            )
            .await;
        if let Err(error) = completed {
            // Say what the page and `muppet experiment run` said.
            let page = studio.text("#page-experiments").await.unwrap_or_default();
            let mut logs = String::new();
            for entry in std::fs::read_dir(home.root().join("experiment-logs"))
                .into_iter()
                .flatten()
                .flatten()
            {
                logs.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
            return Err(error.context(format!("the page shows:\n{page}\nexperiment logs:\n{logs}")));
        }
        let progress = studio.text(&format!("{card} .experiment-progress")).await?;
        ensure!(
            progress.contains("5 of 5 runs completed"),
            "the progress says {progress:?}"
        );
        let launches = studio.text("#experiment-launches").await?;
        ensure!(
            launches.contains("ended with code 0"),
            "the launch list says {launches:?}"
        );
        let experiment_id = studio
            .client
            .find(Locator::Css(card))
            .await?
            .attr("data-experiment")
            .await?
            .context("the experiment card has no id")?;
        studio.screenshot("experiment-completed.png").await?;

        // Score the pre-finetuned model on one of its tasks' dev examples from the card: the
        // scores join the run's metrics, and the report then lists the model scored directly.
        studio.click(&format!("{card} .score-models-panel summary")).await?;
        studio
            .wait_for(&format!("{card} .score-task option[value='sarcasm_headlines']"), UI_WAIT, "the scoring panel offers the stage's tasks")
            .await?;
        studio
            .client
            .execute(
                &format!("const s = document.querySelector(\"{card} .score-task\"); s.value = 'sarcasm_headlines'; s.dispatchEvent(new Event('change'));"),
                vec![],
            )
            .await?;
        studio.click(&format!("{card} button.score-models")).await?;
        let ended = format!("{card} .score-result[data-state='done'], {card} .score-result[data-state='failed'], {card} .score-result[data-state='empty']");
        let result = match studio.wait_for(&ended, TRAINING_WAIT, "the scoring ends").await {
            Ok(result) => result,
            Err(error) => {
                let panel = studio.text(&format!("{card} .score-models-panel")).await.unwrap_or_default();
                let banner = studio.text("#experiments-error").await.unwrap_or_default();
                return Err(error.context(format!("the panel shows:\n{panel}\nthe page's error banner: {banner:?}")));
            }
        };
        let scored = result.text().await?;
        ensure!(
            result.attr("data-state").await?.as_deref() == Some("done") && scored.contains("sarcasm_headlines, dev examples") && scored.contains("accuracy"),
            "the panel says {scored:?}"
        );
        let stage = {
            let store = Store::open(&home.db()).await?;
            let runs = store.experiment_runs(muppet_store::ExperimentId(experiment_id.parse()?)).await?;
            let stage = runs.iter().find(|r| r.kind == muppet_core::RunKind::PreFinetune).context("the experiment's stage")?.id;
            let points = store.series(stage, Some("sarcasm_headlines"), "eval-dev", "accuracy").await?;
            store.close().await;
            ensure!(points.len() == 1, "the stage's stored score: {points:?}");
            stage
        };
        ensure!(scored.contains(&format!("run {stage} (step 3)")), "the panel says {scored:?}");

        // Build the report from the app: the sample-efficiency chart is shown and every
        // file is written into the data folder.
        studio.click(&format!("{card} button.build-report")).await?;
        let chart = studio
            .wait_for(
                &format!("{card} .report-charts img[data-chart='sample_efficiency_winowhy.svg'][data-loaded='true']"),
                UI_WAIT,
                "the report's sample-efficiency chart is shown",
            )
            .await?;
        ensure!(chart.is_displayed().await?, "the chart is hidden");
        let drawn = studio
            .client
            .execute(
                "return arguments[0].naturalWidth;",
                vec![serde_json::to_value(&chart)?],
            )
            .await?
            .as_f64()
            .unwrap_or(0.0);
        ensure!(
            drawn > 0.0,
            "the chart image did not decode (natural width {drawn})"
        );
        let report = home.root().join("reports").join(&experiment_id);
        for file in [
            "summary.md",
            "points.csv",
            "runs.csv",
            "sample_efficiency_winowhy.svg",
            "sample_efficiency_winowhy.png",
            "prefinetune_pft.svg",
        ] {
            ensure!(
                report.join(file).is_file(),
                "no {file} in {}",
                report.display()
            );
            studio
                .wait_for(
                    &format!("{card} .report-files li[data-file='{file}']"),
                    UI_WAIT,
                    "the report's files are listed",
                )
                .await?;
        }
        // The report's summary reads in the card.
        studio.click(&format!("{card} .report-summary summary")).await?;
        let summary = studio.text(&format!("{card} .report-summary pre")).await?;
        ensure!(summary.contains("winowhy") && summary.contains("sample_efficiency_winowhy.png"), "the summary shows {summary:?}");
        ensure!(summary.contains("The pre-finetuned models scored directly") && summary.contains("sarcasm_headlines (eval-dev)"), "the summary shows {summary:?}");
        let png = std::fs::read(report.join("sample_efficiency_winowhy.png"))?;
        ensure!(
            png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "the PNG chart is not a PNG"
        );
        let svg = std::fs::read_to_string(report.join("sample_efficiency_winowhy.svg"))?;
        ensure!(
            svg.contains("winowhy"),
            "the SVG chart does not name its task"
        );
        // runs.csv: one row per fine-tune (2 sizes x base and pft).
        let runs_csv = std::fs::read_to_string(report.join("runs.csv"))?;
        ensure!(
            runs_csv.lines().skip(1).count() == 4,
            "runs.csv:\n{runs_csv}"
        );
        studio.screenshot("experiment-report.png").await?;

        // A second experiment of the design (the base model alone, run from a terminal) is
        // compared with the first: the comparison charts both experiments' curves.
        let other = dir.path().join("desktop-base.toml");
        std::fs::write(&other, format!("name = \"desktop-base\"\n{TINY_SETTINGS}\n[sample_efficiency]\ntasks = [\"winowhy\"]\nsizes = [8]\nseeds = 1\nstarts = [\"base\"]\n"))?;
        let terminal = |args: &[&str]| {
            std::process::Command::new(muppet_bin()).args(args).env("MUPPET_HOME", home.root()).env("MUPPET_ASSETS", shared_assets()).stdin(std::process::Stdio::null()).output()
        };
        let out = terminal(&["experiment", "run", "--spec", other.to_str().context("utf-8")?, "--json"])?;
        ensure!(out.status.success(), "the second experiment: {}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let second = serde_json::from_str::<serde_json::Value>(stdout.lines().last().unwrap_or_default())?["experiment_id"].as_i64().context("the second experiment's id")?;
        studio.click("#refresh-experiments").await?;
        studio.click("#experiments-compare summary").await?;
        let tick = |id: String| format!("#compare-experiments-list input[data-compare='{id}']");
        studio.wait_for(&tick(second.to_string()), UI_WAIT, "the second experiment can be compared").await?;
        studio.click(&tick(experiment_id.clone())).await?;
        studio.click(&tick(second.to_string())).await?;
        studio.click("#compare-experiments").await?;
        studio.wait_for("#compare-experiments-charts img[data-chart='compare_winowhy.svg']", EXPERIMENT_WAIT, "the comparison's chart is shown").await?;
        let said = studio.text("#compare-experiments-result").await?;
        ensure!(said.starts_with(&format!("Experiments {experiment_id}, {second} compared in ")), "the comparison says {said:?}");
        let compared = std::fs::read_to_string(home.root().join("reports").join(format!("compare-{experiment_id}-{second}")).join("compare_winowhy.svg"))?;
        ensure!(compared.contains(&format!("E{experiment_id} pft")) && compared.contains(&format!("E{second} base")), "the comparison chart has both experiments");
        let out = terminal(&["experiment", "delete", &second.to_string()])?;
        ensure!(out.status.success(), "deleting the second experiment: {}", String::from_utf8_lossy(&out.stderr));
        studio.click("#refresh-experiments").await?;
        read_settled(|| async {
            let gone = studio.client.execute(&format!("return document.querySelector(\"#experiments-list [data-experiment='{second}']\") === null;"), vec![]).await?;
            ensure!(gone == serde_json::json!(true), "the second experiment's card is still listed");
            Ok(())
        })
        .await?;

        // A fine-tune deleted (from a terminal, say) leaves the experiment stopped at 4 of 5;
        // Resume on its card trains that run again and completes it.
        ensure!(!studio.is_displayed(&format!("{card} button.resume-experiment")).await?, "a completed experiment offers no Resume");
        {
            let store = Store::open(&home.db()).await?;
            let runs = store.experiment_runs(muppet_store::ExperimentId(experiment_id.parse()?)).await?;
            let leaf = runs.iter().find(|r| r.kind == RunKind::Finetune).context("a fine-tune")?.id;
            muppet_store::delete::delete_runs(&store, &home, &[leaf]).await?;
            store.close().await;
        }
        studio.click("#refresh-experiments").await?;
        studio.wait_for(&format!("{card}[data-state='stopped'] button.resume-experiment"), UI_WAIT, "the experiment is stopped and offers Resume").await?;
        studio.click(&format!("{card} button.resume-experiment")).await?;
        studio.wait_for(&format!("{card}[data-state='completed']"), EXPERIMENT_WAIT, "the resumed experiment completes").await?;
        let launches = studio.text("#experiment-launches").await?;
        ensure!(launches.contains(&format!("experiment {experiment_id} `desktop-e2e` (resumed)")), "the launch list says {launches:?}");

        // Delete it from its card: asked first, then gone with its runs and folders.
        studio.click(&format!("{card} button.delete-experiment")).await?;
        let question = studio.wait_for(&format!("{card} .confirm-panel"), UI_WAIT, "the deletion is asked about").await?.text().await?;
        ensure!(question.contains("Delete experiment “desktop-e2e” for good, with its 5 runs"), "the question says {question:?}");
        let runs: Vec<i64> = {
            let store = Store::open(&home.db()).await?;
            let runs = store.list_runs().await?.iter().map(|r| r.id.0).collect();
            store.close().await;
            runs
        };
        ensure!(runs.len() == 5, "5 runs before, not {runs:?}");
        studio.click(&format!("{card} button.delete-experiment-yes")).await?;
        studio.wait_for("#experiments-result:not(:empty)", UI_WAIT, "the deletion's result is shown").await?;
        let said = studio.text("#experiments-result").await?;
        ensure!(said.starts_with(&format!("Deleted experiment {experiment_id} and its runs ")), "the result says {said:?}");
        let count = studio.text("#experiments-count").await?;
        ensure!(count == "No experiments yet", "the page says {count:?}");
        ensure!(!report.exists(), "the report is gone");
        for run in runs {
            ensure!(!home.run_dir(RunId(run)).exists(), "run {run}'s folder is gone");
        }
        studio.close().await
    };
    tokio::time::timeout(EXPERIMENT_TEST_LIMIT, test)
        .await
        .context("the experiment test ran past its time limit")?
}

/// Screenshots of every page for the README tour (docs/screenshots/), taken of the whole
/// virtual display with imagemagick's `import -window root`, from the real app on a data
/// folder with a real trained run. Not part of `make test`: run `make screenshots`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes docs/screenshots; run with `make screenshots`"]
async fn readme_screenshots() -> anyhow::Result<()> {
    let _one_app = one_app_at_a_time().await?;
    let dir = tempfile::tempdir()?;
    let home = MuppetHome::at(dir.path().join("home"));
    home.ensure()?;
    seed_completed_run(&home).await?;
    let muppet = muppet_bin();
    let assets = shared_assets();
    // A real run trained by the worker, for the run page.
    let queued = std::process::Command::new(&muppet)
        .args([
            "prefinetune",
            "--task",
            "sarcasm_headlines",
            "--task",
            "rt_fresh_rotten",
            "--steps",
            "60",
            "--batch-size",
            "4",
            "--tasks-per-update",
            "2",
            "--max-len",
            "32",
            "--doc-stride",
            "8",
            "--dev-size",
            "16",
            "--eval-every",
            "10",
            "--checkpoint-every",
            "0",
            "--name",
            "sarcasm + rotten tomatoes",
            "--queue",
            "--json",
        ])
        .env("MUPPET_HOME", home.root())
        .env("MUPPET_ASSETS", &assets)
        .output()?;
    ensure!(
        queued.status.success(),
        "queue: {}",
        String::from_utf8_lossy(&queued.stderr)
    );
    let trained = std::process::Command::new(&muppet)
        .args(["worker", "--run", "2"])
        .env("MUPPET_HOME", home.root())
        .env("MUPPET_ASSETS", &assets)
        .output()?;
    ensure!(
        trained.status.success(),
        "worker: {}",
        String::from_utf8_lossy(&trained.stderr)
    );

    let studio = StudioSession::open_for_training(home.root(), "screenshots.log").await?;
    let out = muppet_tests::workspace::workspace_root().join("docs/screenshots");
    std::fs::create_dir_all(&out)?;
    let shoot = |name: &str| -> anyhow::Result<()> {
        let path = out.join(name);
        let status = std::process::Command::new("import")
            .args(["-window", "root", "-crop", "1200x760+0+0", "+repage"])
            .arg(&path)
            .status()
            .context("run imagemagick's import")?;
        ensure!(status.success(), "import failed for {}", path.display());
        Ok(())
    };
    let settle = || tokio::time::sleep(Duration::from_millis(600));

    studio.wait_for_runs_state("loaded").await?;
    studio.click(".nav-item[data-page='tasks']").await?;
    studio
        .wait_for(
            "body[data-tasks-state='loaded']",
            TRAINING_WAIT,
            "the tasks load",
        )
        .await?;
    studio
        .click("#tasks-body tr[data-task='sarcasm_headlines'] button")
        .await?;
    studio
        .wait_for(
            "#task-preview[data-task='sarcasm_headlines']",
            UI_WAIT,
            "the preview opens",
        )
        .await?;
    settle().await;
    shoot("tasks.png")?;

    studio.click(".nav-item[data-page='mixture']").await?;
    for task in [
        "sarcasm_headlines",
        "rt_fresh_rotten",
        "crowdflower_tweets",
        "fever_claims",
    ] {
        let css = format!("#mixture-tasks label[data-task='{task}'] input");
        studio
            .wait_for(&css, UI_WAIT, "the mixture builder lists the tasks")
            .await?
            .click()
            .await?;
    }
    studio
        .client
        .find(Locator::Css("#sampling"))
        .await?
        .select_by_value("temperature")
        .await?;
    studio
        .wait_for(
            "#mixture-summary-body tr[data-task='fever_claims']",
            UI_WAIT,
            "the summary",
        )
        .await?;
    settle().await;
    shoot("mixture.png")?;

    studio.click(".nav-item[data-page='runs']").await?;
    studio.wait_for_runs_state("loaded").await?;
    for id in ["1", "2"] {
        studio
            .click(&format!(
                "#runs-body tr[data-run-id='{id}'] input.run-select"
            ))
            .await?;
    }
    studio.click("#compare-runs").await?;
    studio
        .wait_for("#compare-panel[data-runs='1,2']", UI_WAIT, "the comparison")
        .await?;
    settle().await;
    shoot("runs.png")?;

    studio
        .click("#runs-body tr[data-run-id='2'] .run-open")
        .await?;
    studio
        .wait_for(
            "#run-status[data-status='completed']",
            UI_WAIT,
            "the run page",
        )
        .await?;
    studio
        .wait_for("#dev-chart[data-points]", UI_WAIT, "the dev chart")
        .await?;
    settle().await;
    shoot("run.png")?;

    // Score the run's last checkpoint on one of its tasks' dev examples.
    studio
        .wait_for("#eval-panel #eval-task option[value='sarcasm_headlines']", UI_WAIT, "the scoring form")
        .await?;
    studio.click("#eval-run").await?;
    studio.wait_for("#eval-result[data-state='done']", UI_WAIT, "the scoring ends").await?;
    studio.client.execute("document.getElementById('eval-panel').scrollIntoView()", vec![]).await?;
    settle().await;
    shoot("run-eval.png")?;

    // Ask a head of the run about a headline of one's own.
    studio
        .client
        .execute("const s = document.getElementById('predict-task'); s.value = 'sarcasm_headlines'; s.dispatchEvent(new Event('change'));", vec![])
        .await?;
    studio.type_into("#predict-text", "local man heroically finishes reading entire terms of service").await?;
    studio.click("#predict-run").await?;
    studio.wait_for("#predict-result[data-state='done']", UI_WAIT, "the prediction ends").await?;
    studio.client.execute("document.getElementById('predict-panel').scrollIntoView()", vec![]).await?;
    settle().await;
    shoot("run-try.png")?;

    studio.click(".nav-item[data-page='experiments']").await?;
    studio
        .wait_for("#experiments-count", UI_WAIT, "the experiments page")
        .await?;
    settle().await;
    shoot("experiments.png")?;

    studio.click(".nav-item[data-page='settings']").await?;
    studio
        .wait_for("#settings-info dd", UI_WAIT, "the settings page")
        .await?;
    settle().await;
    shoot("settings.png")?;
    studio.close().await
}

/// A number the page wrote into a `data-*` attribute.
async fn data_number(studio: &StudioSession, css: &str, attr: &str) -> anyhow::Result<f64> {
    let element = studio.client.find(Locator::Css(css)).await?;
    let text = element
        .attr(attr)
        .await?
        .with_context(|| format!("{css} has no {attr}"))?;
    Ok(text.parse()?)
}

/// The desktop figures of BENCHMARKS.md: cold start to an interactive runs table, the
/// runs table with 10,000 runs, and a chart of 20 runs x 2,000 points. Prints one
/// `BENCH` line per figure. Not part of `make test`: run `make bench-desktop`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark; run with `make bench-desktop`"]
async fn desktop_benchmark() -> anyhow::Result<()> {
    let _one_app = one_app_at_a_time().await?;
    let dir = tempfile::tempdir()?;

    // Cold start on a small database: launch to a loaded runs table.
    let small = MuppetHome::at(dir.path().join("small"));
    small.ensure()?;
    seed_two_runs(&small).await?;
    let mut starts = Vec::new();
    for round in 0..3 {
        let started = std::time::Instant::now();
        let studio = StudioSession::open(small.root(), &format!("bench-start-{round}.log")).await?;
        studio.wait_for_runs_state("loaded").await?;
        let wall = started.elapsed().as_secs_f64() * 1e3;
        let in_page = studio
            .client
            .execute("return performance.now();", vec![])
            .await?;
        eprintln!(
            "BENCH cold_start_ms round={round} launch_to_loaded={wall:.0} page_navigation_to_now={in_page}"
        );
        starts.push(wall);
        studio.close().await?;
    }
    starts.sort_by(f64::total_cmp);
    eprintln!("BENCH cold_start_median_ms {:.0}", starts[1]);

    // 10,000 runs, then 20 runs of 2,000 loss points each.
    let big = MuppetHome::at(dir.path().join("big"));
    big.ensure()?;
    let store = Store::open(&big.db()).await?;
    let seeding = std::time::Instant::now();
    for i in 0..10_000u64 {
        // A fine-tune's spec settings and a dev accuracy, for the table's optional columns.
        let mut run = new_run(&format!("sweep run {i}"), RunKind::Finetune);
        let lr = [1e-5, 2e-5, 5e-5][(i % 3) as usize];
        run.spec = serde_json::json!({
            "backend": "cpu",
            "init": { "from": "run", "run": 1 + i % 20 },
            "config": { "lr": lr, "batch_size": 16, "steps": 100, "train_size": 16 << (i % 5), "seed": i % 3, "sampling": "natural", "max_len": 128 },
        });
        let id = store.create_run(&run).await?;
        let mut points = vec![loss_points(1, 1.0 + (i % 97) as f64 / 100.0)[0].clone()];
        points.extend(accuracy_points("sst2", &[i % 50]));
        store.record_points(id, &points).await?;
        store
            .end_run(
                id,
                if i % 7 == 0 {
                    RunStatus::Failed
                } else {
                    RunStatus::Completed
                },
                None,
            )
            .await?;
    }
    for i in 0..20u64 {
        let id = store
            .create_run(&new_run(&format!("curve {i}"), RunKind::PreFinetune))
            .await?;
        let points: Vec<MetricPoint> = (1..=2000u64)
            .map(|step| MetricPoint {
                task: None,
                split: "train".into(),
                name: "loss".into(),
                step,
                examples: step * 32,
                wall_s: step as f64,
                value: 2.0 / (1.0 + step as f64 / (50.0 + i as f64 * 10.0))
                    + ((step * 7919 + i) % 13) as f64 / 100.0,
            })
            .collect();
        store.record_points(id, &points).await?;
        store.end_run(id, RunStatus::Completed, None).await?;
    }
    store.close().await;
    eprintln!("BENCH seeding_s {:.1}", seeding.elapsed().as_secs_f64());

    let started = std::time::Instant::now();
    let studio = StudioSession::open(big.root(), "bench-big.log").await?;
    studio.wait_for_runs_state("loaded").await?;
    eprintln!(
        "BENCH cold_start_10k_runs_ms {:.0}",
        started.elapsed().as_secs_f64() * 1e3
    );
    eprintln!(
        "BENCH runs_table_10k load_ms={} render_ms={}",
        data_number(&studio, "body", "data-runs-load-ms").await?,
        data_number(&studio, "body", "data-runs-render-ms").await?
    );
    studio
        .click("#runs-table th[data-sort='last_loss']")
        .await
        .context("sort by last loss")?;
    eprintln!(
        "BENCH runs_table_10k sort_render_ms={}",
        data_number(&studio, "body", "data-runs-render-ms").await?
    );
    // Optional columns: every run's figures and settings asked for as the menu opens, then
    // a dev accuracy column shown and sorted by; taken off again.
    studio.click("#runs-columns summary").await?;
    studio.wait_for("body[data-runs-columns-ms]", UI_WAIT, "the columns load").await?;
    eprintln!("BENCH runs_table_10k columns_load_ms={}", data_number(&studio, "body", "data-runs-columns-ms").await?);
    let column = "#runs-columns-list input[data-column='metric:sst2 dev accuracy']";
    studio.click(column).await?;
    studio.wait_for("#runs-table th[data-sort='metric:sst2 dev accuracy']", UI_WAIT, "the column is shown").await?;
    eprintln!("BENCH runs_table_10k column_render_ms={}", data_number(&studio, "body", "data-runs-render-ms").await?);
    studio.click("#runs-columns summary").await?;
    studio.click_centered("#runs-table th[data-sort='metric:sst2 dev accuracy']").await?;
    eprintln!("BENCH runs_table_10k column_sort_render_ms={}", data_number(&studio, "body", "data-runs-render-ms").await?);
    studio.click("#runs-columns summary").await?;
    studio.click(column).await?;
    studio.click("#runs-columns summary").await?;
    studio.click("#runs-table th[data-sort='last_loss']").await?;
    studio.click("#runs-more").await.context("show every run")?;
    studio
        .wait_for("#runs-more[hidden]", UI_WAIT, "every run is shown")
        .await?;
    eprintln!(
        "BENCH runs_table_10k show_all_render_ms={}",
        data_number(&studio, "body", "data-runs-render-ms").await?
    );
    // Filtered by settings and figures: every run's columns and spec read and matched in
    // the backend, then the rows rendered; cleared again.
    studio.type_into("#runs-where", "learning rate < 3e-5 and sst2 dev accuracy > 0.9\u{E007}").await?;
    studio.wait_for("body[data-runs-where-ms]", UI_WAIT, "the filter is applied").await?;
    let matched = read_settled(|| async { Ok(studio.text("#runs-count").await?) }).await?;
    eprintln!(
        "BENCH runs_table_10k where_filter_ms={} render_ms={} ({matched})",
        data_number(&studio, "body", "data-runs-where-ms").await?,
        data_number(&studio, "body", "data-runs-render-ms").await?
    );
    studio.type_into("#runs-where", "\u{E007}").await?;
    // Grouped by a setting: every run's columns and spec read and grouped in the backend,
    // then the groups drawn; then every run plotted by that setting and a dev figure (the
    // SVG drawn by the backend, shown as an image); the grouping cleared again.
    studio.type_into("#runs-group", "learning rate\u{E007}").await?;
    studio.wait_for("body[data-runs-group-ms]", UI_WAIT, "the runs are grouped").await?;
    let groups = studio.client.execute("return document.getElementById('runs-groups').dataset.groups;", vec![]).await?;
    eprintln!("BENCH runs_table_10k group_ms={} ({groups} groups)", data_number(&studio, "body", "data-runs-group-ms").await?);
    studio.click("#runs-plot summary").await?;
    studio.wait_for("#plot-y option[value='sst2 dev accuracy']", UI_WAIT, "the plot offers the figures").await?;
    studio.client.execute("document.getElementById('plot-x').value = 'learning rate'; document.getElementById('plot-y').value = 'sst2 dev accuracy';", vec![]).await?;
    studio.click("#plot-runs").await?;
    studio.wait_for("#plot-image[data-plotted]", UI_WAIT, "the runs are plotted").await?;
    let plotted = studio.client.execute("return document.getElementById('plot-image').dataset.plotted;", vec![]).await?;
    eprintln!("BENCH runs_table_10k plot_ms={} ({plotted} runs plotted)", data_number(&studio, "body", "data-runs-plot-ms").await?);
    studio.click("#runs-plot summary").await?;
    // Every run as a line through two settings and a dev figure (parallel coordinates).
    studio.click("#runs-parallel summary").await?;
    studio.type_into("#parallel-columns", "learning rate, batch size, sst2 dev accuracy").await?;
    studio.click("#parallel-draw").await?;
    studio.wait_for("#parallel-image[data-plotted]", UI_WAIT, "the runs are drawn").await?;
    let drawn = studio.client.execute("return document.getElementById('parallel-image').dataset.plotted;", vec![]).await?;
    eprintln!("BENCH runs_table_10k parallel_ms={} ({drawn} runs drawn)", data_number(&studio, "body", "data-runs-parallel-ms").await?);
    studio.click("#runs-parallel summary").await?;
    // Which settings matter: every run's settings weighed by a dev figure in the backend,
    // then the table drawn.
    studio.click("#runs-importance summary").await?;
    studio.wait_for("#importance-figure option[value='sst2 dev accuracy']", UI_WAIT, "the panel offers the figures").await?;
    studio.client.execute("document.getElementById('importance-figure').value = 'sst2 dev accuracy';", vec![]).await?;
    studio.click("#importance-run").await?;
    studio.wait_for("body[data-runs-importance-ms]", UI_WAIT, "the settings are weighed").await?;
    let weighed = studio.text("#importance-result").await?;
    eprintln!("BENCH runs_table_10k importance_ms={} ({weighed})", data_number(&studio, "body", "data-runs-importance-ms").await?);
    studio.click("#runs-importance summary").await?;
    studio.type_into("#runs-group", "\u{E007}").await?;
    studio
        .type_into("#runs-filter", "curve")
        .await
        .context("filter the runs")?;
    eprintln!(
        "BENCH runs_table_10k filter_render_ms={}",
        data_number(&studio, "body", "data-runs-render-ms").await?
    );
    let rows = studio
        .client
        .find_all(Locator::Css("#runs-body input.run-select"))
        .await?;
    ensure!(rows.len() == 20, "the filter shows {} runs", rows.len());
    studio
        .click("#select-all-runs")
        .await
        .context("select every run shown")?;
    studio.click("#compare-runs").await?;
    studio
        .wait_for(
            ".compare-chart[data-draw-ms]",
            UI_WAIT,
            "the comparison chart",
        )
        .await?;
    let points = studio.chart_points(".compare-chart").await?;
    let mut draws = vec![data_number(&studio, ".compare-chart", "data-draw-ms").await?];
    // Each legend click hides or shows a series and redraws everything.
    for _ in 0..4 {
        studio
            .click(".compare-chart .legend-item")
            .await
            .context("toggle a legend entry")?;
        tokio::time::sleep(Duration::from_millis(200)).await;
        draws.push(data_number(&studio, ".compare-chart", "data-draw-ms").await?);
    }
    eprintln!("BENCH chart_20x2000 points={points} draw_ms={draws:?}");
    studio.close().await
}
