import { describe, expect, it } from "vitest";
import { FAMILY_FIELDS, FIELD_LABELS, addStepText, emptyImportForm, fieldDefault, importProblems, importRequest, importSummary, paperAddedText, parseWhole, splitPolicy, type ImportForm } from "./task-import";

const vader: ImportForm = {
  ...emptyImportForm(),
  path: " /data/vader/movieReviewSnippets_GroundTruth.txt ",
  format: "tsv",
  name: "my_vader_movies",
  family: "regression",
  fields: { text: " 3 ", label: "2", text_b: "", question: "left over from another family" },
  labels: "ignored, for regression",
  noHeader: true,
};

describe("importRequest", () => {
  it("sends only the family's fields, blank ones left to the importer", () => {
    expect(importRequest(vader)).toEqual({
      path: "/data/vader/movieReviewSnippets_GroundTruth.txt",
      format: "tsv",
      name: "my_vader_movies",
      family: "regression",
      fields: { text: "3", label: "2" },
      labels: null,
      license: null,
      no_header: true,
      encoding: "utf8",
      replace: false,
    });
  });
  it("splits declared labels for classification and drops the header flag where there is no header", () => {
    const request = importRequest({ ...vader, family: "single", format: "jsonl", labels: " negative, positive ", license: " MIT " });
    expect(request.labels).toEqual(["negative", "positive"]);
    expect(request.license).toBe("MIT");
    expect(request.no_header).toBe(false);
    expect(importRequest({ ...vader, family: "single", labels: " " }).labels).toBeNull();
  });
  it("maps the span fields", () => {
    const fields = { question: "q", context: "c", answer_text: "a", answer_start: "s", label: "nope" };
    expect(importRequest({ ...vader, family: "span", fields }).fields).toEqual({ question: "q", context: "c", answer_text: "a", answer_start: "s" });
  });
  it("maps a generation task's source text and target, and takes no labels", () => {
    const request = importRequest({ ...vader, family: "generation", format: "jsonl", fields: { text: " article ", target: " highlights ", label: "nope" }, labels: "a, b" });
    expect(request.family).toBe("generation");
    expect(request.fields).toEqual({ text: "article", target: "highlights" });
    expect(request.labels).toBeNull();
    expect(importRequest({ ...vader, family: "generation", fields: { target: "" } }).fields).toEqual({});
  });
  it("leaves the split out unless the task has one of its own, and sends only the keys given", () => {
    expect(importRequest(vader)).not.toHaveProperty("split");
    expect(importRequest({ ...vader, devSize: " ", splitSeed: "" })).not.toHaveProperty("split");
    expect(importRequest({ ...vader, devSize: " 500 ", splitSeed: "7" }).split).toEqual({ dev_size: 500, seed: 7 });
    expect(importRequest({ ...vader, devSize: "0" }).split).toEqual({ dev_size: 0 });
    expect(importRequest({ ...vader, splitSeed: "42" }).split).toEqual({ seed: 42 });
  });
});

describe("splitPolicy", () => {
  it("reads whole numbers of 0 or more, and nothing else", () => {
    expect(parseWhole("")).toBeNull();
    expect(parseWhole(" 12 ")).toBe(12);
    expect(parseWhole("0")).toBe(0);
    for (const bad of ["-1", "1.5", "1e3", "abc", "12 3", "99999999999999999999"]) expect(parseWhole(bad)).toBeNaN();
    expect(splitPolicy({ devSize: "-1", splitSeed: "3" })).toEqual({ seed: 3 });
    expect(splitPolicy({ devSize: "", splitSeed: "" })).toEqual({});
  });
  it("names the task it is scored on when one is typed", () => {
    expect(splitPolicy({ devSize: "500", splitSeed: "", devTask: " rt_test " })).toEqual({ dev_size: 500, dev_task: "rt_test" });
    expect(splitPolicy({ devSize: "", splitSeed: "", devTask: "  " })).toEqual({});
  });
});

describe("fieldDefault", () => {
  it("shows what the importer reads when a field is empty", () => {
    expect(fieldDefault("single", "bigbench", "text")).toBe("input");
    expect(fieldDefault("single", "csv", "text")).toBe("text");
    expect(fieldDefault("span", "squad", "answer_start")).toBe("answer_start");
    expect(fieldDefault("span", "jsonl", "answer_start")).toContain("found in the context");
    expect(fieldDefault("span", "bigbench", "answer_text")).toBe("targets");
    expect(fieldDefault("generation", "jsonl", "text")).toBe("text");
    expect(fieldDefault("generation", "bigbench", "text")).toBe("input");
    expect(fieldDefault("generation", "jsonl", "target")).toBe("target");
    expect(fieldDefault("generation", "bigbench", "target")).toBe("target");
  });
  it("shows a generation task's source text and target", () => {
    expect(FAMILY_FIELDS.generation).toEqual(["text", "target"]);
    expect(FIELD_LABELS.target).toBe("Target text field");
  });
  it("has a default or a note for every field a family shows", () => {
    for (const [family, fields] of Object.entries(FAMILY_FIELDS)) {
      for (const field of fields) expect(fieldDefault(family as ImportForm["family"], "jsonl", field)).not.toBe("");
    }
  });
});

describe("importProblems", () => {
  it("accepts a complete form", () => {
    expect(importProblems(vader)).toEqual([]);
  });
  it("names what is missing or wrong", () => {
    expect(importProblems({ ...emptyImportForm(), format: "folder" })).toEqual(["Give the folder to import.", "Give the task a name."]);
    expect(importProblems({ ...vader, path: "data.jsonl", name: "my task" })).toEqual([
      "The path must be absolute (start with /).",
      "The name may hold only letters, digits, _, - and . (at most 100).",
    ]);
    expect(importProblems({ ...vader, family: "pair", labels: "a,,b" })).toEqual([
      "The labels hold an empty label: separate them with single commas.",
    ]);
  });
  it("accepts an own split of whole numbers, or none", () => {
    expect(importProblems({ ...vader, devSize: "500", splitSeed: "0" })).toEqual([]);
    expect(importProblems({ ...vader, devSize: " ", splitSeed: "" })).toEqual([]);
  });
  it("names a dev size or split seed that is not a whole number of 0 or more", () => {
    expect(importProblems({ ...vader, devSize: "-5", splitSeed: "1.5" })).toEqual([
      "The dev size must be a whole number of 0 or more (or empty: each run's dev size).",
      "The split seed must be a whole number of 0 or more (or empty: each run's seed).",
    ]);
    expect(importProblems({ ...vader, splitSeed: "not a number" })).toEqual(["The split seed must be a whole number of 0 or more (or empty: each run's seed)."]);
  });
});

describe("importSummary", () => {
  it("says what was imported and what was left out", () => {
    expect(importSummary({ name: "t", examples: 10605, records: 10605, duplicates: 0, skipped: 0 })).toBe("Imported t: 10,605 examples from 10,605 records.");
    expect(importSummary({ name: "t", examples: 9, records: 12, duplicates: 1, skipped: 2 })).toBe(
      "Imported t: 9 examples from 12 records (1 exact duplicate dropped, 2 invalid records left out).",
    );
  });
});

describe("paperAddedText", () => {
  const report = (name: string, examples: number) => ({ name, examples, records: examples, duplicates: 0, skipped: 0, labels: ["neg", "pos"], fingerprint: "f" });
  it("names the validation split that scores the task, when there is one", () => {
    expect(paperAddedText({ ...report("rotten_tomatoes", 8530), origin: "the cache", dev: report("rotten_tomatoes_validation", 1066) })).toBe(
      "Imported rotten_tomatoes: 8,530 examples from 8,530 records. Imported rotten_tomatoes_validation: 1,066 examples from 1,066 records. rotten_tomatoes is scored on rotten_tomatoes_validation. Read the cache.",
    );
    expect(paperAddedText({ ...report("imdb", 25000), origin: "the hub", dev: null })).toBe("Imported imdb: 25,000 examples from 25,000 records. Read the hub.");
  });
});

describe("addStepText", () => {
  it("says which file downloads, how far, then the import and the overlap check", () => {
    expect(addStepText({ step: "download", file: "default/train/0000.parquet", index: 1, files: 1, bytes: 45_200_000, total: 120_000_000 })).toBe(
      "Downloading default/train/0000.parquet: 37% 45.2 of 120.0 MB",
    );
    expect(addStepText({ step: "download", file: "x/train-00001-of-00002.parquet", index: 2, files: 2, bytes: 0, total: 0 })).toBe(
      "Downloading x/train-00001-of-00002.parquet (file 2 of 2): 0.0 of 0.0 MB",
    );
    expect(addStepText({ step: "import", files: 3 })).toBe("Importing 3 files…");
    expect(addStepText({ step: "overlaps" })).toBe("Checking every task for shared inputs…");
  });
});
