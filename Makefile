# Horenso. `make` alone lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

BIN      := bin/horenso
DATA     ?= data
HTTP     ?= 127.0.0.1:8080
FUZZTIME ?= 10s

.PHONY: help build run test lint fuzz bench web-setup web-test screenshots

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-12s %s\n", $$1, $$2}'

build: ## build bin/horenso
	go build -o $(BIN) ./cmd/horenso

run: build ## build and run a node on ./data, HTTP on 127.0.0.1:8080 (override with DATA=, HTTP=); first run prints the admin login
	$(BIN) run --data $(DATA) --http $(HTTP)

lint: ## gofmt, go vet, staticcheck, and go.mod tidiness
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go mod tidy -diff
	go vet ./...
	go tool staticcheck ./...

test: lint web-setup ## lint, go test -race ./... (unit, multi-node, end-to-end, browser), short fuzz runs, benchmarks once
	go test -race -count=1 ./...
	go test -count=1 -run TestBrowserFirstScreen ./node/web
	go test -run='^$$' -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./protocol
	go test -run='^$$' -fuzz=FuzzReadFrame -fuzztime=$(FUZZTIME) ./protocol
	go test -run='^$$' -fuzz=FuzzAPI -fuzztime=$(FUZZTIME) ./node/api
	go test -run='^$$' -bench=. -benchtime=1x ./...

web-setup: ## install what the browser tests need: Chromium, fonts, Node.js and playwright-core (apt-get, npm ci)
	node/web/testdata/setup.sh

web-test: web-setup ## the browser tests alone, without -race (includes the 100-room, 10,000-message first-screen check)
	go test -count=1 -run 'TestBrowser|TestNotation' -v ./node/web

screenshots: web-setup ## retake the screenshots in docs/img from the browser tests
	HORENSO_SCREENSHOTS=1 go test -count=1 -run 'TestBrowser$$' ./node/web

fuzz: ## fuzz the event decoder for longer (FUZZTIME=5m)
	go test -run='^$$' -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./protocol

bench: ## run the benchmarks and print their figures
	go test -run='^$$' -bench=. -benchmem ./...
