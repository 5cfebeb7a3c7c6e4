package main

import (
	"testing"
	"time"
)

func TestParseLifetime(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"", 0, false},
		{"30d", 30 * 24 * time.Hour, false},
		{"2w", 14 * 24 * time.Hour, false},
		{"12h", 12 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"0d", 0, true},
		{"-1h", 0, true},
		{"d", 0, true},
		{"1.5d", 0, true},
		{"soon", 0, true},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := parseLifetime(c.in)
			if (err != nil) != c.bad || got != c.want {
				t.Errorf("parseLifetime(%q) = %v, %v; want %v (error: %v)", c.in, got, err, c.want, c.bad)
			}
		})
	}
}
