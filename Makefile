# Muppet Studio: `make run` sets up what is missing and starts the desktop app;
# `make test` runs every test. Both install their own prerequisites.

SHELL := /bin/bash
CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
MUPPET := $(TARGET_DIR)/debug/muppet
STUDIO := $(TARGET_DIR)/debug/muppet-studio
# Tests share one asset folder (model and datasets); CI may point it at a cache.
TEST_ASSETS ?= $(CURDIR)/.muppet/assets
# Python with torch + transformers (scripts/reference/requirements.txt) for the Hugging Face
# reference and round-trip tests; about 5 GiB, so CI keeps it in its cache.
REFERENCE_VENV ?= $(CURDIR)/.venv
REFERENCE_PYTHON := $(REFERENCE_VENV)/bin/python

.PHONY: run test system-deps ui-deps ui build test-build test-assets desktop-tools ui-test rust-test reference-env screenshots bench-desktop bundle

run: system-deps ui build
	$(MUPPET) assets fetch
	@test "$$($(MUPPET) runs list --json)" != "[]" || $(MUPPET) demo
	$(STUDIO)

test: system-deps ui ui-test test-build desktop-tools test-assets reference-env rust-test

system-deps:
	@bash scripts/system-deps.sh

ui/node_modules/.package-lock.json: ui/package-lock.json
	npm --prefix ui ci --no-audit --no-fund
	@touch $@

ui-deps: ui/node_modules/.package-lock.json

# The UI's sources: ui/dist is rebuilt when one changes, and with it the shell, which embeds
# it (src-tauri/build.rs watches ui/dist).
UI_SOURCES := $(shell find ui/src -type f) ui/index.html ui/package.json ui/tsconfig.json ui/vite.config.ts

ui/dist/index.html: ui/node_modules/.package-lock.json $(UI_SOURCES)
	npm --prefix ui run build
	@touch $@

ui: ui-deps ui/dist/index.html

ui-test: ui-deps
	npm --prefix ui test

# The shell embeds ui/dist, so the UI is built first.
build: ui
	$(CARGO) build -p muppet-cli -p muppet-studio

# Binaries and test targets in one build, so the features Cargo unifies are
# the same as in the test run that follows (no second compile of shared crates).
test-build: ui
	$(CARGO) build --workspace --bins --tests

# Installed once per requirements change (the stamp records it).
reference-env: $(REFERENCE_VENV)/.requirements-installed

$(REFERENCE_VENV)/.requirements-installed: scripts/reference/requirements.txt
	python3 -m venv $(REFERENCE_VENV)
	$(REFERENCE_PYTHON) -m pip install --quiet --disable-pip-version-check -r $<
	@cp $< $@

desktop-tools:
	@bash scripts/desktop-tools.sh >/dev/null

test-assets: test-build
	MUPPET_ASSETS=$(TEST_ASSETS) MUPPET_HOME=$(CURDIR)/.muppet $(MUPPET) assets fetch

# Desktop tests need a display: everything runs under a virtual one.
rust-test:
	MUPPET_ASSETS=$(TEST_ASSETS) MUPPET_BIN=$(MUPPET) MUPPET_STUDIO_BIN=$(STUDIO) \
	MUPPET_PYTHON=$(REFERENCE_PYTHON) \
	TAURI_DRIVER=$(CURDIR)/.tools/bin/tauri-driver \
	xvfb-run -a --server-args="-screen 0 1280x800x24" \
	$(CARGO) nextest run --workspace --no-fail-fast

# The app driven through WebDriver on a virtual display, for tests that are not part of
# `make test`: the README screenshots and the desktop benchmark (BENCHMARKS.md).
DESKTOP_ENV = MUPPET_ASSETS=$(TEST_ASSETS) MUPPET_BIN=$(MUPPET) MUPPET_STUDIO_BIN=$(STUDIO) \
	TAURI_DRIVER=$(CURDIR)/.tools/bin/tauri-driver \
	xvfb-run -a --server-args="-screen 0 1280x800x24"

# Rewrites docs/screenshots/*.png from the real app (imagemagick `import -window root`).
screenshots: system-deps test-build desktop-tools test-assets
	$(DESKTOP_ENV) $(CARGO) nextest run -p muppet-tests --test desktop --run-ignored only -E 'test(readme_screenshots)' --no-capture

bench-desktop: system-deps test-build desktop-tools test-assets
	$(DESKTOP_ENV) $(CARGO) nextest run -p muppet-tests --test desktop --run-ignored only -E 'test(desktop_benchmark)' --no-capture

# The .deb, with the `muppet` binary inside as the app's sidecar (bundle.externalBin): the
# release CLI is copied (a plain file, never a link) to src-tauri/binaries/muppet-<triple>,
# where the bundler looks for it, and installed beside the app. The Tauri CLI only reads a
# configuration beside the app's Cargo.toml, so src-tauri/bundle-config.mjs writes one
# there for the build (the top-level one with absolute paths) and it is removed after.
# A release build takes minutes: not part of `make test`. Output: target/release/bundle/deb/.
HOST_TRIPLE = $(shell rustc -vV | sed -n 's/^host: //p')
SIDECAR = src-tauri/binaries/muppet-$(HOST_TRIPLE)

bundle: system-deps ui
	$(CARGO) build --release -p muppet-cli
	@mkdir -p src-tauri/binaries
	rm -f $(SIDECAR)
	cp $(TARGET_DIR)/release/muppet $(SIDECAR)
	node src-tauri/bundle-config.mjs > src-tauri/tauri.conf.json
	cd src-tauri && ../ui/node_modules/.bin/tauri build --bundles deb; status=$$?; rm -f tauri.conf.json; exit $$status
