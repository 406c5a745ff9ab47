// A button's work and the result line it reports into: the button is disabled while the
// work runs, the line says `busy`, then what the work returns or the error, and
// `data-state` says which (`done`, `error`) for the tests.
import { byId } from "./dom";
import { describeError } from "./runs-format";

export async function withResult(buttonId: string, resultId: string, busy: string, work: () => Promise<string>): Promise<void> {
  const result = byId(resultId);
  const button = byId<HTMLButtonElement>(buttonId);
  button.disabled = true;
  result.className = "result";
  result.textContent = busy;
  delete result.dataset.state;
  try {
    result.textContent = await work();
    result.dataset.state = "done";
  } catch (error) {
    result.className = "result error";
    result.textContent = describeError(error).message;
    result.dataset.state = "error";
  } finally {
    button.disabled = false;
  }
}
