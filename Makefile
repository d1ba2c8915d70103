# The two commands a new user runs: `make demo` and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
# make test runs benchmarks briefly; make bench runs them fully.
BENCH_MODE ?= quick

.PHONY: all deps build test demo bench clean

all: build

deps:
	bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && CILIUMPP_BENCH_MODE=quick ctest --output-on-failure --timeout 900

demo: build
	bash scripts/demo.sh $(BUILD_DIR)

bench: build
	CILIUMPP_BENCH_MODE=full bash bench/run-all.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
