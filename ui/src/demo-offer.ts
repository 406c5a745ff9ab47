// The demo experiment offered to a new user: on the Runs page while the store has no
// experiment, and on the Experiments page until the demo has been started.
import type { DemoOffer, ExperimentsPage } from "./api";
import { el } from "./dom";

/** "61 runs (1 pre-finetuning, 60 fine-tunes) · about 8 minutes on 2 CPU cores". */
export function demoSize(offer: DemoOffer): string {
  const runs = `${offer.runs} runs (${offer.prefinetunes} pre-finetuning, ${offer.finetunes} fine-tunes)`;
  return `${runs} · about ${offer.minutes_on_2_cores} minutes on 2 CPU cores`;
}

/** Whether the demo still needs offering: not stored yet and not being started. */
export function demoPending(page: ExperimentsPage): boolean {
  const stored = page.experiments.some((e) => e.name === page.demo.name);
  const launching = page.launches.some((l) => l.running && l.spec.endsWith("/experiments/demo.toml"));
  return !stored && !launching;
}

/** Fill `host` with the offer and its one button; `onRun` launches the demo. */
export function renderDemoOffer(host: HTMLElement, offer: DemoOffer, onRun: (button: HTMLButtonElement) => void): void {
  const button = el("button", { type: "button", className: "button demo-run" }, "Run the demo experiment");
  button.addEventListener("click", () => onRun(button));
  host.replaceChildren(
    el(
      "div",
      { className: "demo-text" },
      el("h3", {}, "Try the demo experiment first"),
      el("p", {}, offer.description),
      el("p", { className: "demo-size" }, demoSize(offer)),
    ),
    button,
  );
  host.dataset.runs = String(offer.runs);
}
