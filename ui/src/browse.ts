// "Browse…" buttons beside typed paths: a native open or save dialog fills the text field.
// The field stays the source of truth (and what tests type into); the app's commands check
// whatever path it holds (src-tauri/src/paths.rs).
import { open, save } from "@tauri-apps/plugin-dialog";
import { byId } from "./dom";

export type BrowseKind =
  | { kind: "open-file"; title: string; extensions: string[]; label: string }
  | { kind: "save-file"; title: string; extensions: string[]; label: string }
  | { kind: "folder"; title: string };

async function choose(kind: BrowseKind, current: string): Promise<string | null> {
  // Start where the field points, when it holds something.
  const start = current.trim() ? { defaultPath: current.trim() } : {};
  switch (kind.kind) {
    case "open-file":
      return open({ title: kind.title, ...start, multiple: false, directory: false, filters: [{ name: kind.label, extensions: kind.extensions }] });
    case "save-file":
      return save({ title: kind.title, ...start, filters: [{ name: kind.label, extensions: kind.extensions }] });
    case "folder":
      return open({ title: kind.title, ...start, multiple: false, directory: true });
  }
}

/** Make button `buttonId` fill input `inputId` from a dialog; `onError` shows a failure. */
export function wireBrowse(buttonId: string, inputId: string, kind: BrowseKind, onError: (message: string) => void): void {
  const input = byId<HTMLInputElement>(inputId);
  byId(buttonId).addEventListener("click", async () => {
    try {
      const path = await choose(kind, input.value);
      if (path) {
        input.value = path;
        input.dispatchEvent(new Event("input", { bubbles: true }));
      }
    } catch (error) {
      onError(`The file dialog could not open: ${String(error)}`);
    }
  });
}
