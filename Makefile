# Horenso. `make` alone lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

BIN      := bin/horenso
DATA     ?= data
HTTP     ?= 127.0.0.1:8080
LISTEN   ?= /ip4/0.0.0.0/tcp/4001,/ip4/0.0.0.0/udp/4001/quic-v1
FUZZTIME ?= 10s
# make test's fuzz runs are counted in inputs, about 10 s each here, not
# timed: with Go 1.26 a timed run can fail with a bare "context deadline
# exceeded" when its time is up while a worker is busy (golang/go#75804,
# fixed in Go 1.27), which a loaded machine makes likely.
FUZZEXECS ?= 250000
FUZZEXECS_API ?= 15000
BENCHCOUNT ?= 3
SOAKTIME ?= 30m

.PHONY: help build run test lint fuzz bench bench-quick soak web-setup s3-setup web-test screenshots

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-12s %s\n", $$1, $$2}'

build: ## build bin/horenso
	go build -o $(BIN) ./cmd/horenso

run: build ## build and run a node on ./data, HTTP on 127.0.0.1:8080, libp2p on port 4001 (override with DATA=, HTTP=, LISTEN=); first run prints the admin login
	$(BIN) run --data $(DATA) --http $(HTTP) --listen $(LISTEN)

lint: ## gofmt, go vet, staticcheck, and go.mod tidiness
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go mod tidy -diff
	go vet ./...
	go tool staticcheck ./...

test: lint web-setup s3-setup ## lint, go test -race ./... (unit, multi-node, end-to-end, browser), the 5,000-member room and first screen without -race, short fuzz runs, bench-quick
	go test -race -count=1 ./...
	go test -count=1 -run TestBrowserFirstScreen ./node/web
	go test -count=1 -run TestUnreadExactInBigRoom ./node
	go test -run='^$$' -fuzz=FuzzDecode -fuzztime=$(FUZZEXECS)x ./protocol
	go test -run='^$$' -fuzz=FuzzReadFrame -fuzztime=$(FUZZEXECS)x ./protocol
	go test -run='^$$' -fuzz=FuzzAPI -fuzztime=$(FUZZEXECS_API)x ./node/api
	$(MAKE) --no-print-directory bench-quick

web-setup: ## install what the browser tests need: Chromium, fonts, Node.js and playwright-core (apt-get, npm ci)
	node/web/testdata/setup.sh

s3-setup: ## install the S3-compatible server the S3 blob store tests start: versitygw, built from the Go module proxy into ~/.cache/horenso/s3 (once)
	node/nodetest/testdata/s3-setup.sh

web-test: web-setup ## the browser tests alone, without -race (includes the 100-room, 10,000-message first-screen check)
	go test -count=1 -run 'TestBrowser|TestNotation' -v ./node/web

screenshots: web-setup ## retake the screenshots in docs/img from the browser tests
	HORENSO_SCREENSHOTS=1 go test -count=1 -run 'TestBrowser(|People|Unread|Phone|Tasks|RoomNotices|Invite)$$' ./node/web

fuzz: ## fuzz the event decoder for longer (FUZZTIME=5m)
	go test -run='^$$' -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./protocol

bench: ## measure Horenso against the physical limits, BENCHCOUNT=3 runs each (about 50 minutes here; BENCHCOUNT=1 about 30), and print the table of docs/PERFORMANCE.md
	set -o pipefail; go test -p=1 -run='^$$' -bench=. -benchtime=1x -count=$(BENCHCOUNT) -timeout=180m ./... | go run ./cmd/benchtable

bench-quick: ## the same benchmarks at a small scale, once (under 2 minutes), so that they keep working
	set -o pipefail; go test -p=1 -short -run='^$$' -bench=. -benchtime=1x -count=1 -timeout=10m ./... | go run ./cmd/benchtable

soak: ## two partner nodes (built binaries) for SOAKTIME=30m: posts at half the 64-client rate, readers, a line of RSS, heap, open files and p99 a minute
	HORENSO_SOAK=$(SOAKTIME) go test -run='^$$' -bench=BenchmarkSoak -benchtime=1x -timeout=0 ./node/bench
