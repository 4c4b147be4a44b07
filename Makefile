# The front of the build: `make serve` and `make test` are the README's two commands. Both install the
# Debian packages that are missing (scripts/install-deps.sh; `make test` also what only tests use, such as
# headless Chromium) and configure + build with meson into build/.
# `make test` also builds an ASan+UBSan copy into build-asan/ and runs the unit tests there, and a
# ThreadSanitizer copy into build-tsan/ for ew-server's threads under load.

BUILD      ?= build
ASAN_BUILD ?= build-asan
PYTHON     ?= /usr/bin/python3
IP         ?= 127.0.0.1
PORT       ?= 8787

TSAN_BUILD ?= build-tsan

.PHONY: all deps deps-test build serve test test-unit test-asan test-e2e test-tsan test262 bench clean

all: build

deps:
	@bash scripts/install-deps.sh

deps-test:
	@bash scripts/install-deps.sh --test

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

serve: build
	./$(BUILD)/server/ew-server --ip $(IP) --port $(PORT) examples/hello/

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) --buildtype=debug -Dsanitize=true

test-unit: build
	meson test -C $(BUILD) --print-errorlogs --num-processes 2

test-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		meson test -C $(ASAN_BUILD) --suite unit --suite js --print-errorlogs --num-processes 2

test-e2e: build deps-test
	EW_BUILD_DIR=$(abspath $(BUILD)) $(PYTHON) -m pytest -q tests/e2e $(wildcard tests/python)

$(TSAN_BUILD)/build.ninja:
	meson setup $(TSAN_BUILD) --buildtype=debugoptimized -Dtsan=true

# ThreadSanitizer: ew-server with several loop threads under concurrent load, and the library used from
# several threads (each with its own runtime). Any report fails the run (halt_on_error).
test-tsan: deps-test $(TSAN_BUILD)/build.ninja
	ninja -C $(TSAN_BUILD)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 EW_BUILD_DIR=$(abspath $(TSAN_BUILD)) \
		$(PYTHON) -m pytest -q tests/e2e/test_threads.py tests/e2e/test_ratelimit.py tests/e2e/test_server_basics.py \
		tests/e2e/test_kv_durability.py tests/e2e/test_d1.py tests/e2e/test_durable_objects.py tests/e2e/test_multi_worker.py \
		tests/e2e/test_queues.py

test: test-unit test-asan test-e2e test-tsan

# test262 is not packaged: fetch tc39/test262 outside the repo and set TEST262_DIR (see tests/test262/run.py).
test262: build
	$(PYTHON) tests/test262/run.py --build-dir $(BUILD) $(if $(TEST262_DIR),--test262-dir $(TEST262_DIR),)

bench: build
	bash bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
