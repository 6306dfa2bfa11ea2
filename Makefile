# The two commands of the quick start: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
RELEASE_DIR ?= build/release
ASAN_DIR ?= build/asan
VAR ?= var
CMAKE_COMMON := -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON

.PHONY: deps build build-asan run init test test-release test-sanitize bench bench-csc clean format

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
	@echo "sigild starts on https://127.0.0.1:8443 (Ctrl-C stops it). In another shell, sign the sample PDF"
	@echo "with the demo signer's key (in the token; PAdES B-T with the built-in TSA and a visible stamp):"
	@echo
	@echo "  curl -sS --fail-with-body --cacert $(VAR)/pki/root-ca.pem -H \"Authorization: Bearer \$$(cat $(VAR)/secrets/demo-signer.apikey)\" \\"
	@echo "    -H 'Content-Type: application/pdf' --data-binary @$(VAR)/demo/sample.pdf \\"
	@echo "    'https://127.0.0.1:8443/api/v1/sign?profile=demo-pades&name=sample.pdf' -o $(VAR)/demo/sample-signed.pdf"
	@echo
	@echo "and check it with an independent validator:"
	@echo "  ../shared/validators/validate-pades --trust $(VAR)/pki/root-ca.pem --level B-T $(VAR)/demo/sample-signed.pdf"
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

# libFuzzer runs (Clang): builds every tests/fuzz target with -fsanitize=fuzzer,address,undefined and
# runs each for FUZZ_SECONDS on a scratch copy of its corpus (findings: $(FUZZ_DIR)/tests/fuzz/artifacts).
# `make fuzz FUZZ_TARGETS=fuzz_pdf FUZZ_SECONDS=600` runs one. Not part of `make test` (the fuzzers run
# there time-bounded through the standalone driver). See docs/fuzzing.md.
FUZZ_DIR ?= build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 2
FUZZ_TARGETS ?= fuzz_der fuzz_cms_parse fuzz_pdf fuzz_tsa_request fuzz_json_bounded fuzz_dss_parameters \
                fuzz_xml fuzz_toml_config fuzz_xades_xml

.PHONY: fuzz
fuzz:
	@cmake -S . -B $(FUZZ_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DSIGIL_SANITIZE=ON -DSIGIL_FUZZ=ON \
	  -DSIGIL_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(FUZZ_DIR) -j $(FUZZ_JOBS) --target $(FUZZ_TARGETS)
	@rc=0; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/tests/fuzz/corpus-work/$$t $(FUZZ_DIR)/tests/fuzz/artifacts; \
	  c=$${t#fuzz_}; extra=; [ $$t = fuzz_xades_xml ] && extra=tests/fuzz/corpus/xml; \
	  echo "== $$t ($(FUZZ_SECONDS) s)"; \
	  ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(FUZZ_DIR)/tests/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=25 -rss_limit_mb=3072 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/tests/fuzz/artifacts/$$t- \
	    $(FUZZ_DIR)/tests/fuzz/corpus-work/$$t tests/fuzz/corpus/$$c $$extra || rc=1; \
	done; exit $$rc

bench: build
	@$(RELEASE_DIR)/bench/sigil_bench

# CSC signHash through a throwaway sigild (HTTPS, token, SAD, audit) against the raw C_Sign rate;
# prints the Markdown table of docs/performance.md. Nothing else should run meanwhile.
bench-csc: build
	@bench/csc_load.sh $(RELEASE_DIR) 10 16

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	@rm -rf build
