# The two commands a new user runs: `make demo` and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
# make test runs benchmarks briefly; make bench runs them fully.
BENCH_MODE ?= quick

.PHONY: all deps build test demo bench image clean

all: build

deps:
	bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && CILIUMPP_BENCH_MODE=quick ctest --output-on-failure --timeout 900 || { bash $(CURDIR)/scripts/ctest-failures.sh $(abspath $(BUILD_DIR)); exit 1; }

demo: build
	bash scripts/demo.sh $(BUILD_DIR)

bench: build
	CILIUMPP_BENCH_MODE=full bash bench/run-all.sh $(BUILD_DIR)

# The container image (OCI image-layout tarball, built without a Docker
# daemon): import with `ctr -n k8s.io image import $(BUILD_DIR)/ciliumpp-image.tar`.
image: build
	bash scripts/build-image.sh $(BUILD_DIR) $(BUILD_DIR)/ciliumpp-image.tar

clean:
	rm -rf $(BUILD_DIR)
