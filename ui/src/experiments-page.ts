// The Experiments page: the experiments in the store with their runs and report charts,
// building a report, and running a spec file (`muppet experiment run`) in the background.
import { buildReport, listExperiments, reportChart, runExperiment, type ExperimentView } from "./api";
import { byId, el, showBanner } from "./dom";
import { describeError, formatStatus, formatTimestamp } from "./runs-format";

export class ExperimentsPage {
  constructor(private readonly openRun: (id: number) => void) {
    byId("refresh-experiments").addEventListener("click", () => void this.show());
    byId("run-experiment").addEventListener("click", () => void this.run());
  }

  async show(): Promise<void> {
    try {
      const page = await listExperiments();
      showBanner(byId("experiments-error"), null);
      const spec = byId<HTMLInputElement>("experiment-spec");
      if (spec.value === "" && page.demo_spec) spec.value = page.demo_spec;
      byId("experiments-count").textContent =
        page.experiments.length === 0 ? "No experiments yet" : `${page.experiments.length} experiments`;
      byId("experiment-launches").replaceChildren(
        ...page.launches.map((l) =>
          el("li", {}, `${l.spec} — ${l.running ? `running (pid ${l.pid})` : `ended with code ${l.exit_code ?? "?"}`} · log ${l.log}`),
        ),
      );
      byId("experiments-list").replaceChildren(...page.experiments.map((e) => this.card(e)));
    } catch (error) {
      showBanner(byId("experiments-error"), describeError(error));
    }
  }

  private card(experiment: ExperimentView): HTMLElement {
    const counts = new Map<string, number>();
    for (const r of experiment.runs) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    const summary = [...counts].map(([s, n]) => `${n} ${formatStatus(s).toLowerCase()}`).join(", ") || "no runs";
    const build = el("button", { type: "button", className: "button secondary" }, experiment.report ? "Rebuild report" : "Build report");
    build.addEventListener("click", async () => {
      build.disabled = true;
      build.textContent = "Building…";
      try {
        await buildReport(experiment.id);
        await this.show();
      } catch (error) {
        showBanner(byId("experiments-error"), describeError(error));
        build.disabled = false;
      }
    });
    const charts = el("div", { className: "report-charts" });
    for (const name of experiment.charts) {
      const img = el("img", { alt: name, title: name });
      charts.append(img);
      reportChart(experiment.id, name)
        .then((svg) => {
          img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
        })
        .catch(() => img.remove());
    }
    const runs = el(
      "ul",
      { className: "experiment-runs" },
      ...experiment.runs.map((r) => {
        const link = el("button", { type: "button", className: "link" }, `#${r.id} ${r.name}`);
        link.addEventListener("click", () => this.openRun(r.id));
        return el("li", {}, link, " ", el("span", { className: `status status-${r.status}` }, formatStatus(r.status)));
      }),
    );
    return el(
      "section",
      { className: "panel experiment", "data-experiment": experiment.id },
      el("div", { className: "page-head" }, el("div", {}, el("h3", {}, experiment.name), el("p", { className: "page-sub" }, `${experiment.kind} · ${formatTimestamp(experiment.created_at, "local")} · ${summary}`)), build),
      charts,
      el("details", {}, el("summary", {}, `${experiment.runs.length} runs`), runs),
    );
  }

  private async run(): Promise<void> {
    try {
      await runExperiment(byId<HTMLInputElement>("experiment-spec").value);
      await this.show();
    } catch (error) {
      showBanner(byId("experiments-error"), describeError(error));
    }
  }
}
