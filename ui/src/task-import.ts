// The Tasks page's import form as plain values: which fields each family maps, the
// importer's default for each (muppet_data::import::resolve), what the form
// sends, and what is wrong with it. Pure, so it is unit-tested.
import type { AddStep, FieldMap, ImportFormat, ImportRequest, PaperAdded, SplitPolicy, TaskFamily } from "./api";

export type FieldName = keyof FieldMap;

export const FORMATS: ImportFormat[] = ["jsonl", "csv", "tsv", "parquet", "squad", "bigbench", "folder"];

/** The fields a family reads, in the order the form shows them. */
export const FAMILY_FIELDS: Record<TaskFamily, FieldName[]> = {
  single: ["text", "label"],
  pair: ["text", "text_b", "label"],
  regression: ["text", "text_b", "label"],
  mc: ["text", "question", "choices", "context", "label"],
  span: ["question", "context", "answer_text", "answer_start"],
  generation: ["text", "target"],
};

export const FIELD_LABELS: Record<FieldName, string> = {
  text: "Text field",
  text_b: "Second text field",
  label: "Label field",
  question: "Question field",
  choices: "Choices field(s)",
  context: "Context field",
  answer_start: "Answer start field",
  answer_text: "Answer text field",
  target: "Target text field",
};

/**
 * What the importer reads when a field is left empty (shown as the placeholder), or a
 * note when it reads nothing.
 */
export function fieldDefault(family: TaskFamily, format: ImportFormat, field: FieldName): string {
  const bigbench = format === "bigbench";
  switch (field) {
    case "text":
      if (family === "mc") return bigbench ? "input" : "(unset: the question)";
      return bigbench ? "input" : "text";
    case "text_b":
      return family === "regression" ? "(optional)" : "text_b";
    case "label":
      return "label";
    case "question":
      return family === "mc" ? (bigbench ? "(unset: input)" : "question") : "question";
    case "choices":
      return "choices (or a,b,c)";
    case "context":
      return family === "mc" ? "(optional)" : "context";
    case "answer_start":
      return format === "squad" ? "answer_start" : "(unset: found in the context)";
    case "answer_text":
      return bigbench ? "targets" : "answer_text";
    case "target":
      return "target";
  }
}

/** Whether a family takes declared class labels. */
export const takesLabels = (family: TaskFamily): boolean => family === "single" || family === "pair";

/** Whether a format has a header line to do without. */
export const hasHeader = (format: ImportFormat): boolean => format === "csv" || format === "tsv";

export interface ImportForm {
  path: string;
  format: ImportFormat;
  name: string;
  family: TaskFamily;
  fields: FieldMap;
  /** Comma-separated, in index order; empty: collected in first-seen order. */
  labels: string;
  license: string;
  noHeader: boolean;
  encoding: ImportRequest["encoding"];
  replace: boolean;
  /** The task's own dev examples, as typed; empty: each run's `--dev-size`. */
  devSize: string;
  /** The task's own split seed, as typed; empty: each run's split seed. */
  splitSeed: string;
  /** The task it is scored on (its dataset's validation split, imported), as typed; empty: part of its own is held out. */
  devTask: string;
}

export function emptyImportForm(): ImportForm {
  return {
    path: "",
    format: "jsonl",
    name: "",
    family: "single",
    fields: {},
    labels: "",
    license: "",
    noHeader: false,
    encoding: "utf8",
    replace: false,
    devSize: "",
    splitSeed: "",
    devTask: "",
  };
}

/** A typed count or seed: null when empty, NaN when it is not a whole number of 0 or more. */
export function parseWhole(text: string): number | null {
  const t = text.trim();
  if (t === "") return null;
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  return Number.isSafeInteger(n) ? n : NaN;
}

/** The task's own split policy: only the keys given (and valid); `{}` when all are left to the run. */
export function splitPolicy(form: Pick<ImportForm, "devSize" | "splitSeed"> & Partial<Pick<ImportForm, "devTask">>): SplitPolicy {
  const split: SplitPolicy = {};
  const dev = parseWhole(form.devSize);
  const seed = parseWhole(form.splitSeed);
  if (dev !== null && !Number.isNaN(dev)) split.dev_size = dev;
  if (seed !== null && !Number.isNaN(seed)) split.seed = seed;
  const devTask = form.devTask?.trim() ?? "";
  if (devTask !== "") split.dev_task = devTask;
  return split;
}

/** The request: only the family's fields, blank ones left to the importer's defaults. */
export function importRequest(form: ImportForm): ImportRequest {
  const fields: FieldMap = {};
  for (const field of FAMILY_FIELDS[form.family]) {
    const value = form.fields[field]?.trim();
    if (value) fields[field] = value;
  }
  const labels = form.labels
    .split(",")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const split = splitPolicy(form);
  return {
    path: form.path.trim(),
    format: form.format,
    name: form.name.trim(),
    family: form.family,
    fields,
    labels: takesLabels(form.family) && labels.length > 0 ? labels : null,
    license: form.license.trim() === "" ? null : form.license.trim(),
    no_header: hasHeader(form.format) && form.noHeader,
    encoding: form.encoding,
    replace: form.replace,
    ...(Object.keys(split).length > 0 ? { split } : {}),
  };
}

/** What must change before the form can be sent (the app checks again, and the importer reads the file). */
export function importProblems(form: ImportForm): string[] {
  const problems: string[] = [];
  const path = form.path.trim();
  if (path === "") problems.push(form.format === "folder" ? "Give the folder to import." : "Give the file to import.");
  else if (!path.startsWith("/")) problems.push("The path must be absolute (start with /).");
  const name = form.name.trim();
  if (name === "") problems.push("Give the task a name.");
  else if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name)) problems.push("The name may hold only letters, digits, _, - and . (at most 100).");
  if (takesLabels(form.family) && /,\s*,|^\s*,|,\s*$/.test(form.labels)) problems.push("The labels hold an empty label: separate them with single commas.");
  if (Number.isNaN(parseWhole(form.devSize))) problems.push("The dev size must be a whole number of 0 or more (or empty: each run's dev size).");
  if (Number.isNaN(parseWhole(form.splitSeed))) problems.push("The split seed must be a whole number of 0 or more (or empty: each run's seed).");
  return problems;
}

/** "Imported my_task: 10,605 examples from 10,605 records (2 duplicates dropped)". */
export function importSummary(report: { name: string; examples: number; records: number; duplicates: number; skipped: number }): string {
  const n = (v: number) => v.toLocaleString("en-US");
  const left: string[] = [];
  if (report.duplicates > 0) left.push(`${n(report.duplicates)} exact duplicate${report.duplicates === 1 ? "" : "s"} dropped`);
  if (report.skipped > 0) left.push(`${n(report.skipped)} invalid record${report.skipped === 1 ? "" : "s"} left out`);
  return `Imported ${report.name}: ${n(report.examples)} examples from ${n(report.records)} records${left.length ? ` (${left.join(", ")})` : ""}.`;
}

/** What adding a catalog dataset did: each task imported, which one scores it, and where the files came from. */
export function paperAddedText(added: PaperAdded): string {
  const dev = added.dev ? ` ${importSummary(added.dev)} ${added.name} is scored on ${added.dev.name}.` : "";
  return `${importSummary(added)}${dev} Read ${added.origin}.`;
}

/** What adding a catalog dataset is doing, for its row. */
export function addStepText(step: AddStep): string {
  switch (step.step) {
    case "download": {
      const mb = (b: number) => (b / 1e6).toFixed(1);
      const of = step.files > 1 ? ` (file ${step.index} of ${step.files})` : "";
      const share = step.total > 0 ? ` ${Math.floor((100 * step.bytes) / step.total)}%` : "";
      return `Downloading ${step.file}${of}:${share} ${mb(step.bytes)} of ${mb(step.total)} MB`;
    }
    case "import":
      return `Importing ${step.files} file${step.files === 1 ? "" : "s"}…`;
    case "overlaps":
      return "Checking every task for shared inputs…";
  }
}
