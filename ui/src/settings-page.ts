// The Settings page: where the data lives (read-only), the default backend and how many
// runs execute at once.
import { getSettings, saveSettings, studioInfo, type Settings } from "./api";
import { byId, el, showBanner } from "./dom";
import { describeError } from "./runs-format";

export class SettingsPage {
  settings: Settings = { default_backend: "cpu", parallel_runs: 1 };

  constructor() {
    byId("save-settings").addEventListener("click", () => void this.save());
  }

  async load(): Promise<void> {
    try {
      this.settings = await getSettings();
    } catch {
      // Outside the app (no IPC) the defaults stand.
    }
  }

  async show(): Promise<void> {
    try {
      const [info, settings] = await Promise.all([studioInfo(), getSettings()]);
      this.settings = settings;
      showBanner(byId("settings-error"), null);
      const item = (term: string, value: string) => [el("dt", {}, term), el("dd", {}, value)];
      byId("settings-info").replaceChildren(
        ...item("Data folder", info.home),
        ...item("Database", info.database),
        ...item("Assets", info.assets),
        ...item("Worker binary", info.muppet ?? `missing: ${info.muppet_error ?? ""}`),
        ...item("Version", info.version),
      );
      byId<HTMLSelectElement>("default-backend").value = settings.default_backend;
      byId<HTMLInputElement>("parallel-runs").value = String(settings.parallel_runs);
    } catch (error) {
      showBanner(byId("settings-error"), describeError(error));
    }
  }

  private async save(): Promise<void> {
    const result = byId("settings-result");
    try {
      this.settings = await saveSettings({
        default_backend: byId<HTMLSelectElement>("default-backend").value,
        parallel_runs: Number(byId<HTMLInputElement>("parallel-runs").value),
      });
      showBanner(byId("settings-error"), null);
      result.textContent = "Saved.";
    } catch (error) {
      result.textContent = "";
      showBanner(byId("settings-error"), describeError(error));
    }
  }
}
