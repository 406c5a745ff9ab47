// Entry point of the web UI: the header, the status line and the Runs page.
import logoUrl from "../../src-tauri/icons/icon.png";
import { studioInfo } from "./api";
import { RunsPage } from "./runs-page";

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

function start(): void {
  const logo = document.getElementById("app-logo") as HTMLImageElement | null;
  if (logo) logo.src = logoUrl;
  void showStudioInfo();
  void new RunsPage().load();
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
