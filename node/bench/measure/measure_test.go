package measure

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		ds := make([]time.Duration, len(ns))
		for i, n := range ns {
			ds[i] = time.Duration(n) * time.Millisecond
		}
		return ds
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100 … 1: Quantile sorts
	}
	tests := []struct {
		name string
		ds   []time.Duration
		q    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", ms(7), 0.99, 7 * time.Millisecond},
		{"median of odd", ms(3, 1, 2), 0.5, 2 * time.Millisecond},
		{"median of even is the lower", ms(4, 3, 2, 1), 0.5, 2 * time.Millisecond},
		{"p99 of 100", ms(hundred...), 0.99, 99 * time.Millisecond},
		{"p50 of 100", ms(hundred...), 0.5, 50 * time.Millisecond},
		{"zero is the least", ms(5, 9, 1), 0, 1 * time.Millisecond},
		{"one is the greatest", ms(5, 9, 1), 1, 9 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Quantile(tt.ds, tt.q); got != tt.want {
				t.Errorf("Quantile(%v, %v) = %v, want %v", tt.ds, tt.q, got, tt.want)
			}
		})
	}
}

func TestUnits(t *testing.T) {
	if got := Ms(1500 * time.Microsecond); got != 1.5 {
		t.Errorf("Ms(1.5ms) = %v", got)
	}
	if got := Us(2500 * time.Nanosecond); got != 2.5 {
		t.Errorf("Us(2.5µs) = %v", got)
	}
}

func TestDirSize(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a"), make([]byte, 10), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "b"), make([]byte, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := DirSize(dir); err != nil || got != 42 {
		t.Errorf("DirSize = %d, %v; want 42", got, err)
	}
	if _, err := DirSize(filepath.Join(dir, "missing")); err == nil {
		t.Error("DirSize of a missing directory: no error")
	}
}

func TestPace(t *testing.T) {
	tests := []struct {
		name        string
		n           int
		until       time.Duration
		wantStarted int
	}{
		{"all in time", 20, time.Minute, 20},
		{"past until", 20, -time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			called := map[int]bool{}
			got := Pace(context.Background(), tt.n, 1000, 4, time.Now().Add(tt.until), func(i int) {
				mu.Lock()
				defer mu.Unlock()
				called[i] = true
			})
			if got != tt.wantStarted || len(called) != tt.wantStarted {
				t.Errorf("Pace started %d, called %d distinct; want %d", got, len(called), tt.wantStarted)
			}
		})
	}
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		// Call 0 is due at once; the rest wait for a timer that ctx beats.
		if got := Pace(ctx, 1000, 1, 2, time.Now().Add(time.Minute), func(int) {}); got != 0 {
			t.Errorf("Pace with a done ctx started %d calls, want 0", got)
		}
	})
}
