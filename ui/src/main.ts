// Entry point of the web UI: navigation between the pages, the status line, the live
// event channel from the app's workers, and the question asked when the window closes
// with runs in progress.
import logoUrl from "../../src-tauri/icons/icon.png";
import { listExperiments, quitApp, runDemoExperiment, studioInfo, subscribeEvents, type Update } from "./api";
import { demoPending, renderDemoOffer } from "./demo-offer";
import { byId, showBanner } from "./dom";
import { describeError } from "./runs-format";
import { ExperimentsPage } from "./experiments-page";
import { defaultForm, formFromSpec, type RunSpecJson } from "./mixture-form";
import { MixturePage } from "./mixture-page";
import { RunPage } from "./run-page";
import { RunsPage } from "./runs-page";
import { SettingsPage } from "./settings-page";
import { TasksPage } from "./tasks-page";

type PageName = "tasks" | "mixture" | "runs" | "run" | "experiments" | "settings";

async function showStudioInfo(): Promise<void> {
  const line = document.getElementById("studio-info");
  if (!line) return;
  try {
    const info = await studioInfo();
    line.textContent = `Database ${info.database} · v${info.version}`;
    line.title = `MUPPET_HOME: ${info.home}`;
    line.dataset.home = info.home;
  } catch {
    line.textContent = "Not connected to the Muppet Studio app";
  }
}

function askBeforeClosing(running: number[]): void {
  const dialog = byId("close-dialog");
  byId("close-message").textContent = `${running.length === 1 ? "Run" : "Runs"} ${running.map((r) => `#${r}`).join(", ")} ${running.length === 1 ? "is" : "are"} still training. Keep ${running.length === 1 ? "it" : "them"} running without the window (the run pages show ${running.length === 1 ? "its" : "their"} progress when you open the app again), or cancel ${running.length === 1 ? "it" : "them"}: each stops after its current update and writes a checkpoint you can resume from.`;
  dialog.hidden = false;
}

/**
 * The first thing a new user sees: while the store holds no experiment, the Runs page
 * offers the demo experiment, launched with one click and followed on the Experiments page.
 */
async function offerDemo(openExperiments: () => void): Promise<void> {
  const host = byId("demo-offer");
  try {
    const page = await listExperiments();
    host.hidden = page.experiments.length > 0 || !demoPending(page);
    if (host.hidden) return;
    renderDemoOffer(host, page.demo, async (button) => {
      button.disabled = true;
      try {
        await runDemoExperiment();
        host.hidden = true;
        openExperiments();
      } catch (error) {
        button.disabled = false;
        showBanner(byId("error-banner"), describeError(error));
      }
    });
  } catch {
    // No store: the Runs page's own error banner says why.
    host.hidden = true;
  }
}

function start(): void {
  const logo = document.getElementById("app-logo") as HTMLImageElement | null;
  if (logo) logo.src = logoUrl;

  const settings = new SettingsPage();
  let current: PageName = "runs";
  const show = (page: PageName): void => {
    current = page;
    document.body.dataset.page = page;
    for (const main of document.querySelectorAll<HTMLElement>("main.page")) main.hidden = main.id !== `page-${page}`;
    for (const item of document.querySelectorAll<HTMLElement>(".nav-item")) {
      const active = item.dataset.page === page || (page === "run" && item.dataset.page === "runs");
      item.classList.toggle("active", active);
      if (active) item.setAttribute("aria-current", "page");
      else item.removeAttribute("aria-current");
    }
  };
  const openRun = (id: number): void => {
    show("run");
    void runPage.open(id);
  };
  const runsPage = new RunsPage(openRun);
  const runPage = new RunPage(
    () => {
      show("runs");
      void runsPage.load();
    },
    (id) => openRun(id),
    () => settings.settings.default_backend,
    (detail) => {
      show("mixture");
      void mixturePage.startFrom(formFromSpec(detail.spec as RunSpecJson, detail.default_model, detail.run.name, defaultForm(settings.settings.default_backend)));
    },
    (again, of) => {
      show("tasks");
      void tasksPage.startFinetune(again, of);
    },
  );
  const tasksPage = new TasksPage(openRun, () => settings.settings.default_backend);
  const mixturePage = new MixturePage(() => settings.settings.default_backend, openRun);
  const experimentsPage = new ExperimentsPage(openRun);

  const openExperiments = (): void => {
    show("experiments");
    void experimentsPage.show();
  };

  for (const item of document.querySelectorAll<HTMLElement>(".nav-item")) {
    item.addEventListener("click", () => {
      const page = item.dataset.page as PageName;
      show(page);
      if (page === "runs") {
        void runsPage.load();
        void offerDemo(openExperiments);
      }
      if (page === "tasks") void tasksPage.show();
      if (page === "mixture") void mixturePage.show();
      if (page === "experiments") void experimentsPage.show();
      if (page === "settings") void settings.show();
    });
  }

  byId("close-back").addEventListener("click", () => (byId("close-dialog").hidden = true));
  byId("close-keep").addEventListener("click", () => void quitApp(false));
  byId("close-cancel").addEventListener("click", () => {
    byId("close-message").textContent = "Cancelling: each run finishes its update and writes a checkpoint…";
    void quitApp(true);
  });

  const onUpdates = (updates: Update[]): void => {
    runsPage.onUpdates(updates);
    if (current === "run") runPage.onUpdates(updates);
    for (const u of updates) if (u.type === "close_requested") askBeforeClosing(u.running);
  };
  subscribeEvents(onUpdates).catch(() => {
    // Outside the app there is no channel; the pages show their own errors.
  });

  void showStudioInfo();
  void settings.load();
  void runsPage.load();
  void offerDemo(openExperiments);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
