// Small DOM helpers shared by the pages.

export function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no element #${id}`);
  return element as T;
}

type Child = Node | string | null | undefined | false;

/** `el("td", { className: "num" }, "12")`. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string | boolean | number>> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith("data-") || name.startsWith("aria-")) element.setAttribute(name, String(value));
    else (element as unknown as Record<string, unknown>)[name] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child);
  }
  return element;
}

/** Say `message` in the result line `id`, marked as an error or not. */
export function showResult(id: string, message: string, error: boolean): void {
  const result = byId(id);
  result.textContent = message;
  result.className = error ? "result error" : "result";
}

/** Show an error (or clear it with `null`) in a banner element with a message child. */
export function showBanner(banner: HTMLElement, error: { kind: string; message: string } | null): void {
  banner.hidden = error === null;
  if (!error) return;
  banner.dataset.kind = error.kind;
  const message = banner.querySelector(".error-message");
  if (message) message.textContent = error.message;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB", "PB"];
  let value = bytes / 1000;
  let unit = 0;
  // 999,950 bytes read as 1.0 MB, not 1000.0 kB.
  while (value >= 999.95 && unit + 1 < units.length) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
