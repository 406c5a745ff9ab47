// Prints the configuration the Tauri CLI bundles with: the top-level tauri.conf.json with
// its paths made absolute. The CLI only accepts a configuration beside the app's
// Cargo.toml (src-tauri/) and resolves paths from there, while the app and tauri-build
// read the top-level file; absolute paths mean the same thing from both folders.
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const config = JSON.parse(readFileSync(resolve(root, "tauri.conf.json"), "utf8"));
const absolute = (p) => (isAbsolute(p) ? p : resolve(root, p));
config.build.frontendDist = absolute(config.build.frontendDist);
config.bundle.icon = config.bundle.icon.map(absolute);
config.bundle.externalBin = (config.bundle.externalBin ?? []).map(absolute);
process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
