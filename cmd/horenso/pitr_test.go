package main

import (
	"testing"
	"time"
)

func TestDaysFlag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "7d", want: 7 * 24 * time.Hour},
		{in: "36h", want: 36 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "90s", want: 90 * time.Second},
		{in: "d", bad: true},
		{in: "-1d", bad: true},
		{in: "7days", bad: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			var d days
			err := d.Set(tc.in)
			if (err != nil) != tc.bad || (!tc.bad && time.Duration(d) != tc.want) {
				t.Fatalf("Set(%q) = %v, %v; want %v (error: %v)", tc.in, time.Duration(d), err, tc.want, tc.bad)
			}
		})
	}
}
