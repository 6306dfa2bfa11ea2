# The two commands of the quick start: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
RELEASE_DIR ?= build/release
ASAN_DIR ?= build/asan
VAR ?= var
CMAKE_COMMON := -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON

.PHONY: deps build build-asan run init test test-release test-sanitize bench clean format

deps:
	@scripts/install-deps

$(RELEASE_DIR)/build.ninja:
	@cmake -S . -B $(RELEASE_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

$(ASAN_DIR)/build.ninja:
	@cmake -S . -B $(ASAN_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug -DSIGIL_SANITIZE=ON -DSIGIL_BUILD_BENCH=OFF >/dev/null

build: deps $(RELEASE_DIR)/build.ninja
	@cmake --build $(RELEASE_DIR) -j $(JOBS)

build-asan: deps $(ASAN_DIR)/build.ninja
	@cmake --build $(ASAN_DIR) -j $(JOBS)

# First-run initialisation of ./var (idempotent), then sigild in the foreground.
init: build
	@$(RELEASE_DIR)/src/cli/sigilctl init --dir $(VAR)

run: init
	@echo
	@echo "sigild starts on https://127.0.0.1:8443 (Ctrl-C stops it). In another shell:"
	@echo "  curl --cacert $(VAR)/pki/root-ca.pem https://127.0.0.1:8443/healthz"
	@echo
	@exec $(RELEASE_DIR)/src/app/sigild --config $(VAR)/sigil.toml

test-release: build
	@cd $(RELEASE_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

test-sanitize: build-asan
	@cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 900

# The whole suite, then the same suite under ASan+UBSan.
test: test-release test-sanitize

bench: build
	@$(RELEASE_DIR)/bench/sigil_bench

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	@rm -rf build
