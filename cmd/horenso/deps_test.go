package main

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/horenso/horenso"

// allowed lists, for each package of the module, the module packages it
// may import: cmd → node/api → node → storage → protocol, cmd →
// node/control → node, and node → node/p2p → protocol. Nothing imports cmd.
var allowed = map[string][]string{
	"protocol":       {},
	"storage":        {"protocol"},
	"node":           {"protocol", "storage", "node/p2p", "node/search"},
	"node/search":    {},
	"node/p2p":       {"protocol"},
	"node/api":       {"node", "protocol", "node/web"},
	"node/control":   {"node", "protocol"},
	"node/web":       {},
	"node/nodetest":  {"node", "node/api", "node/p2p", "storage", "protocol"},
	"node/bench":     {}, // benchmarks: test files only, which these rules do not cover
	"cmd/horenso":    {"node", "node/api", "node/control", "protocol"},
	"cmd/benchtable": {},
	"cmd/stalls":     {},

	// Imported only by tests and benchmarks, of any package: it imports
	// nothing from the module.
	"node/bench/measure": {},
}

// homes lists third-party modules that only one package may import.
var homes = map[string]string{
	"github.com/dgraph-io/badger":        "storage",
	"github.com/libp2p/go-libp2p":        "node/p2p",
	"github.com/libp2p/go-libp2p-pubsub": "node/p2p",
	"github.com/spf13/cobra":             "cmd/horenso",
	"golang.org/x/term":                  "cmd/horenso", // password prompts
	"github.com/blevesearch/bleve":       "node/search",
	"github.com/minio/minio-go":          "node", // the S3 blob store (s3.go)
}

// TestImportDirection checks the dependency rules of docs/ARCHITECTURE.md
// on the module's real import graph.
func TestImportDirection(t *testing.T) {
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen++
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		may, ok := allowed[rel]
		if !ok {
			t.Errorf("package %s has no entry in the dependency rules; add one", rel)
			continue
		}
		for _, imp := range p.Imports {
			if dep, ok := strings.CutPrefix(imp, module+"/"); ok {
				if !slices.Contains(may, dep) {
					t.Errorf("%s imports %s, which the dependency rules forbid", rel, dep)
				}
				continue
			}
			for prefix, home := range homes {
				if (imp == prefix || strings.HasPrefix(imp, prefix+"/")) && rel != home {
					t.Errorf("%s imports %s, which only %s may import", rel, imp, home)
				}
			}
			if rel == "protocol" && slices.Contains([]string{"net", "os", "time", "net/http", "io/fs"}, imp) {
				t.Errorf("protocol imports %s: it must stay pure (no network, disk or clock)", imp)
			}
		}
	}
	if seen < 5 {
		t.Fatalf("go list showed only %d packages", seen)
	}
}
