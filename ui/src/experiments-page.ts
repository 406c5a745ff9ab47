// The Experiments page: the demo experiment offered first, the experiments in the store
// with their progress, runs, report files and charts, building a report, and running a
// spec file (`muppet experiment run`) in the background. While an experiment runs the page
// refreshes itself. Element ids and data-* attributes are relied on by tests/tests/desktop.rs.
import { buildReport, cancelExperiment, compareExperiments, deleteExperiment, listExperiments, resumeExperiment, reportChart, runDemoExperiment, runExperiment, type ExperimentLaunch, type ExperimentView } from "./api";
import { wireBrowse } from "./browse";
import { ExperimentBuilder } from "./experiment-builder-view";
import { demoPending, renderDemoOffer } from "./demo-offer";
import { byId, el, showBanner, showResult } from "./dom";
import { drawnSettings, experimentProgress, launchStatus, moreSettings } from "./experiment-progress";
import { ScoringPanel } from "./experiment-scoring-view";
import { deletedText, describeError, formatStatus, formatTimestamp } from "./runs-format";

/** How often the page re-reads the store while an experiment is running. */
const FOLLOW_EVERY_MS = 1500;

export class ExperimentsPage {
  private followTimer = 0;
  /** Chart SVGs already fetched, by experiment and file (a rebuilt report clears them). */
  private readonly charts = new Map<string, string>();
  private readonly builder = new ExperimentBuilder(byId("experiment-builder"), () => void this.show());
  private builderRead = false;
  /** Experiments whose summary is open: kept across the page's refreshes. */
  private readonly summaryOpen = new Set<number>();
  /** The experiment whose deletion is being asked about: kept across the page's refreshes. */
  private confirming: number | null = null;
  /** Each experiment's scoring panel: kept across the page's refreshes. */
  private readonly scoring = new Map<number, ScoringPanel>();

  /** Experiments ticked to compare: kept across the page's refreshes. */
  private readonly comparing = new Set<number>();

  constructor(private readonly openRun: (id: number) => void) {
    byId("refresh-experiments").addEventListener("click", () => void this.show());
    byId("compare-experiments").addEventListener("click", () => void this.compare());
    byId("run-experiment").addEventListener("click", () => void this.run());
    wireBrowse(
      "browse-experiment-spec",
      "experiment-spec",
      { kind: "open-file", title: "Experiment spec", label: "Experiment spec (TOML)", extensions: ["toml"] },
      (message) => showBanner(byId("experiments-error"), { kind: "dialog", message }),
    );
  }

  async show(): Promise<void> {
    window.clearTimeout(this.followTimer);
    try {
      const page = await listExperiments();
      showBanner(byId("experiments-error"), null);
      if (!this.builderRead) {
        this.builderRead = true;
        void this.builder.refresh();
      }
      const spec = byId<HTMLInputElement>("experiment-spec");
      if (spec.value === "" && page.demo_spec) spec.value = page.demo_spec;
      const demo = byId("experiments-demo");
      demo.hidden = !demoPending(page);
      if (!demo.hidden) renderDemoOffer(demo, page.demo, (button) => void this.runDemo(button));
      byId("experiments-count").textContent =
        page.experiments.length === 0 ? "No experiments yet" : `${page.experiments.length} experiments`;
      byId("experiment-launches").replaceChildren(...page.launches.map((l) => this.launchItem(l)));
      byId("experiments-list").replaceChildren(...page.experiments.map((e) => this.card(e, e.orchestrated)));
      this.fillComparable(page.experiments);
      for (const id of [...this.scoring.keys()]) if (!page.experiments.some((e) => e.id === id)) this.scoring.delete(id);
      const running = page.launches.some((l) => l.running) || page.experiments.some((e) => e.runs.some((r) => r.status === "running"));
      if (running && document.body.dataset.page === "experiments") {
        this.followTimer = window.setTimeout(() => void this.show(), FOLLOW_EVERY_MS);
      }
    } catch (error) {
      showBanner(byId("experiments-error"), describeError(error));
    }
  }

  private card(experiment: ExperimentView, launching: boolean): HTMLElement {
    const progress = experimentProgress(experiment, launching);
    const build = el("button", { type: "button", className: "button secondary build-report" }, experiment.report ? "Rebuild report" : "Build report");
    build.disabled = progress.done === 0;
    build.addEventListener("click", async () => {
      build.disabled = true;
      build.textContent = "Building…";
      try {
        await buildReport(experiment.id);
        for (const key of [...this.charts.keys()]) if (key.startsWith(`${experiment.id}/`)) this.charts.delete(key);
        await this.show();
      } catch (error) {
        showBanner(byId("experiments-error"), describeError(error));
        build.disabled = false;
        build.textContent = "Build report";
      }
    });
    const resume = el("button", { type: "button", className: "button secondary resume-experiment" }, "Resume");
    resume.title = "Train the runs not completed yet (muppet experiment resume); completed runs are kept";
    resume.hidden = progress.state === "running" || progress.state === "completed";
    resume.addEventListener("click", () => void this.act(resume, () => resumeExperiment(experiment.id)));
    // A random search draws more settings on demand; those drawn stay (W&B's sweep, more agents).
    const drawn = drawnSettings(experiment.spec);
    let more: HTMLElement | null = null;
    if (drawn !== null) {
      const count = el("input", { type: "number", min: 1, value: "4", className: "more-settings", "aria-label": "Settings to draw" });
      const draw = el("button", { type: "button", className: "button secondary draw-more" }, "Draw more");
      draw.title = `A random search of ${drawn} settings: draw this many more and train them (muppet experiment resume --more N); the settings drawn so far stay`;
      const guided = el("input", { type: "checkbox", className: "draw-guided" });
      const guidedLabel = el("label", { className: "check", title: "Propose the settings from the scores of those trained so far instead of drawing them at random (a tree-structured Parzen estimator, W&B's bayes method; --guided): near the best, each one not tried yet. Needs 4 settings scored" }, guided, " guided by the scores");
      draw.addEventListener("click", () => {
        const n = moreSettings(count.value);
        if (typeof n === "string") showBanner(byId("experiments-error"), { kind: "invalid", message: n });
        else void this.act(draw, () => resumeExperiment(experiment.id, n, guided.checked));
      });
      more = el("span", { className: "draw-more-group" }, count, guidedLabel, draw);
      more.hidden = progress.state === "running";
    }
    const remove = el("button", { type: "button", className: "button secondary delete-experiment" }, "Delete");
    remove.title = "Delete the experiment with every run of it, its log, its report and its comparisons with others";
    remove.disabled = progress.state === "running";
    remove.addEventListener("click", () => {
      this.confirming = experiment.id;
      void this.show();
    });
    const confirm = this.confirming === experiment.id ? this.deleteConfirm(experiment) : null;
    const charts = el("div", { className: "report-charts" });
    for (const name of experiment.charts) {
      const img = el("img", { alt: name, title: name, "data-chart": name });
      charts.append(img);
      const key = `${experiment.id}/${name}`;
      const cached = this.charts.get(key);
      const shown = cached ? Promise.resolve(cached) : reportChart(experiment.id, name);
      shown
        .then((svg) => {
          this.charts.set(key, svg);
          img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
          img.dataset.loaded = "true";
        })
        .catch(() => img.remove());
    }
    const files = experiment.report
      ? el(
          "div",
          { className: "report-files" },
          el("p", { className: "page-sub" }, `Report in ${experiment.report}:`),
          el("ul", {}, ...experiment.files.map((f) => el("li", { "data-file": f }, f))),
        )
      : null;
    // The report's figures in words and tables (means, intervals, gains, the critical point).
    const summary = experiment.summary ? el("details", { className: "report-summary" }, el("summary", {}, "Summary (summary.md)"), el("pre", { className: "spec" }, experiment.summary)) : null;
    if (summary) {
      summary.open = this.summaryOpen.has(experiment.id);
      summary.addEventListener("toggle", () => (summary.open ? this.summaryOpen.add(experiment.id) : this.summaryOpen.delete(experiment.id)));
    }
    const runs = el(
      "ul",
      { className: "experiment-runs" },
      ...experiment.runs.map((r) => {
        const link = el("button", { type: "button", className: "link" }, `#${r.id} ${r.name}`);
        link.addEventListener("click", () => this.openRun(r.id));
        return el("li", { "data-run-id": r.id }, link, " ", el("span", { className: `status status-${r.status}` }, formatStatus(r.status)));
      }),
    );
    let scoring: HTMLElement | null = null;
    if (experiment.prefinetuned.length > 0) {
      const panel = this.scoring.get(experiment.id) ?? new ScoringPanel(experiment.id);
      this.scoring.set(experiment.id, panel);
      panel.update(experiment.prefinetuned);
      scoring = panel.element;
    }
    const bar = el("progress", { max: 1, value: progress.fraction ?? 0 });
    if (progress.fraction === null) bar.removeAttribute("value");
    const details = el("details", {}, el("summary", {}, `${experiment.runs.length} runs`), runs);
    details.open = progress.state === "running";
    return el(
      "section",
      {
        className: "panel experiment",
        "data-experiment": experiment.id,
        "data-experiment-name": experiment.name,
        "data-state": progress.state,
        "data-done": progress.done,
      },
      el(
        "div",
        { className: "page-head" },
        el(
          "div",
          {},
          el("h3", {}, experiment.name),
          el("p", { className: "page-sub" }, `${experiment.kind} · ${formatTimestamp(experiment.created_at, "local")}`),
        ),
        el("div", { className: "toolbar" }, build, resume, more, remove),
      ),
      confirm,
      el("div", { className: "experiment-progress" }, bar, el("span", { className: "progress-text" }, progress.text)),
      charts,
      summary,
      files,
      scoring,
      details,
    );
  }

  /** The experiments that can be compared (sample efficiency, task count, with results), ticks kept. */
  private fillComparable(experiments: ExperimentView[]): void {
    const comparable = experiments.filter((e) => comparableKind(e.kind) && experimentProgress(e, e.orchestrated).done > 0);
    for (const id of [...this.comparing]) if (!comparable.some((e) => e.id === id)) this.comparing.delete(id);
    byId("compare-experiments-list").replaceChildren(
      ...(comparable.length === 0
        ? [el("p", { className: "page-sub" }, "No sample-efficiency or task-count experiment has results yet.")]
        : comparable.map((e) => {
            const box = el("input", { type: "checkbox", checked: this.comparing.has(e.id), "data-compare": e.id });
            box.addEventListener("change", () => (box.checked ? this.comparing.add(e.id) : this.comparing.delete(e.id)));
            return el("label", { className: "check" }, box, ` ${e.name} (experiment ${e.id}, ${e.kind.replace("_", " ")})`);
          })),
    );
  }

  /** Compare the ticked experiments and show the comparison's charts and summary. */
  private async compare(): Promise<void> {
    const button = byId<HTMLButtonElement>("compare-experiments");
    const ids = [...this.comparing].sort((a, b) => a - b);
    button.disabled = true;
    showResult("compare-experiments-result", "Comparing…", false);
    try {
      const comparison = await compareExperiments(ids);
      byId("compare-experiments-charts").replaceChildren(
        ...comparison.charts.map(([name, svg]) => el("img", { alt: name, title: name, "data-chart": name, src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}` })),
      );
      const summary = byId("compare-experiments-summary");
      summary.hidden = false;
      const pre = summary.querySelector("pre");
      if (pre) pre.textContent = comparison.summary;
      showResult("compare-experiments-result", `Experiments ${ids.join(", ")} compared in ${comparison.folder}: ${comparison.files.join(", ")}.`, false);
    } catch (error) {
      showResult("compare-experiments-result", describeError(error).message, true);
    } finally {
      button.disabled = false;
    }
  }

  /** The question asked before an experiment is deleted, with its answers. */
  private deleteConfirm(experiment: ExperimentView): HTMLElement {
    const runs = experiment.runs.length;
    const yes = el("button", { type: "button", className: "button danger delete-experiment-yes" }, "Delete");
    const no = el("button", { type: "button", className: "button secondary delete-experiment-no" }, "Keep");
    no.addEventListener("click", () => {
      this.confirming = null;
      void this.show();
    });
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      try {
        const deleted = await deleteExperiment(experiment.id);
        this.confirming = null;
        byId("experiments-result").textContent = deletedText(deleted);
        await this.show();
      } catch (error) {
        showBanner(byId("experiments-error"), describeError(error));
        yes.disabled = false;
      }
    });
    const text =
      `Delete experiment “${experiment.name}” for good, with its ${runs === 1 ? "run" : `${runs} runs`} ` +
      `(metrics, checkpoints, files), its log, its report and its comparisons with others? This cannot be undone.`;
    return el("div", { className: "confirm-panel", role: "alertdialog" }, el("p", {}, text), el("div", { className: "toolbar" }, yes, no));
  }

  /** A launched `muppet experiment run`: where it stands, and Cancel while it runs. */
  private launchItem(l: ExperimentLaunch): HTMLElement {
    const { state, text } = launchStatus(l);
    const item = el("li", { "data-state": state, "data-launch": l.id }, `${l.spec} — ${text}${l.log ? ` · log ${l.log}` : ""}`);
    if (l.running && !l.cancelling) {
      const cancel = el("button", { type: "button", className: "button secondary cancel-experiment" }, "Cancel");
      cancel.title = "Stop it: running runs are cancelled with a checkpoint, finished ones stay; running the spec again resumes it";
      cancel.addEventListener("click", () => void this.act(cancel, () => cancelExperiment(l.id)));
      item.append(" ", cancel);
    }
    return item;
  }

  private async run(): Promise<void> {
    try {
      await runExperiment(byId<HTMLInputElement>("experiment-spec").value);
      await this.show();
    } catch (error) {
      showBanner(byId("experiments-error"), describeError(error));
    }
  }

  private async runDemo(button: HTMLButtonElement): Promise<void> {
    await this.act(button, runDemoExperiment);
  }

  /** A button's action: the button is disabled while `work` runs, then the page is read again; an error shows in the page's banner and gives the button back. */
  private async act(button: HTMLButtonElement, work: () => Promise<unknown>): Promise<void> {
    button.disabled = true;
    try {
      await work();
      await this.show();
    } catch (error) {
      showBanner(byId("experiments-error"), describeError(error));
      button.disabled = false;
    }
  }
}

/** Designs whose experiments a report compares (`muppet report A B`). */
const comparableKind = (kind: string) => kind === "sample_efficiency" || kind === "task_count";
