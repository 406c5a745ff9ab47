import { describe, expect, it } from "vitest";
import { FAMILY_FIELDS, emptyImportForm, fieldDefault, importProblems, importRequest, importSummary, type ImportForm } from "./task-import";

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
});

describe("fieldDefault", () => {
  it("shows what the importer reads when a field is empty", () => {
    expect(fieldDefault("single", "bigbench", "text")).toBe("input");
    expect(fieldDefault("single", "csv", "text")).toBe("text");
    expect(fieldDefault("span", "squad", "answer_start")).toBe("answer_start");
    expect(fieldDefault("span", "jsonl", "answer_start")).toContain("found in the context");
    expect(fieldDefault("span", "bigbench", "answer_text")).toBe("targets");
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
});

describe("importSummary", () => {
  it("says what was imported and what was left out", () => {
    expect(importSummary({ name: "t", examples: 10605, records: 10605, duplicates: 0, skipped: 0 })).toBe("Imported t: 10,605 examples from 10,605 records.");
    expect(importSummary({ name: "t", examples: 9, records: 12, duplicates: 1, skipped: 2 })).toBe(
      "Imported t: 9 examples from 12 records (1 exact duplicate dropped, 2 invalid records left out).",
    );
  });
});
