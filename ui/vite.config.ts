/// <reference types="vitest/config" />
// The UI is embedded into the app binary from ui/dist (tauri.conf.json `frontendDist`);
// there is no dev server in the app's build, so `vite build` must run before cargo.
import { defineConfig } from "vite";

export default defineConfig({
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK 2.40+ (Debian 12) and WebView2 both handle ES2021.
    target: "es2021",
    sourcemap: false,
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
