// Typed wrappers over the Tauri commands of src-tauri/src/commands.rs. The shapes mirror
// the Rust DTOs (muppet_store::RunRow, commands::StudioInfo, error::CommandError).
import { invoke } from "@tauri-apps/api/core";

export type RunKind = "pre_finetune" | "finetune";
export type RunStatus = "queued" | "running" | "completed" | "failed" | "cancelled";

export interface RunRow {
  id: number;
  name: string;
  kind: RunKind;
  status: RunStatus;
  backend: string | null;
  device: string | null;
  started_at: string;
  ended_at: string | null;
  failure: string | null;
  points: number;
  last_loss: number | null;
}

export interface StudioInfo {
  version: string;
  home: string;
  database: string;
}

/** What every command rejects with: a stable `kind` and a message for a person. */
export interface CommandError {
  kind: string;
  message: string;
}

export function listRuns(): Promise<RunRow[]> {
  return invoke<RunRow[]>("list_runs");
}

export function studioInfo(): Promise<StudioInfo> {
  return invoke<StudioInfo>("studio_info");
}
