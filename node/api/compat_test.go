package api

import (
	"fmt"
	"testing"
)

// TestTaskLimitAsChatWorkClientsSend creates tasks with the parameters
// ChatWork's own client sends: it always sends limit_type (time by
// default), with or without a limit. A task without a limit has no
// deadline: limit_time 0, limit_type none.
func TestTaskLimitAsChatWorkClientsSend(t *testing.T) {
	e := newEnv(t, Config{})
	tp := fmt.Sprintf("/v2/rooms/%d/tasks", e.room.Alias)
	b := fmt.Sprint(e.bob.Alias)
	for _, tc := range []struct {
		name      string
		form      kv
		wantTime  int64
		wantLimit string
	}{
		{"time without limit", kv{"limit_type": "time"}, 0, "none"},
		{"date without limit", kv{"limit_type": "date"}, 0, "none"},
		{"time with limit 0", kv{"limit_type": "time", "limit": "0"}, 0, "none"},
		{"none with limit", kv{"limit_type": "none", "limit": "1385996399"}, 0, "none"},
		{"no limit at all", kv{}, 0, "none"},
		{"limit without type", kv{"limit": "1385996399"}, 1385996399, "time"},
		{"time with limit", kv{"limit_type": "time", "limit": "1385996399"}, 1385996399, "time"},
		{"date with limit", kv{"limit_type": "date", "limit": "1385996399"}, 1385996399, "date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := form("body", "Buy milk", "to_ids", b)
			for k, v := range tc.form {
				f.Set(k, v)
			}
			r := e.do("POST", tp, req{token: e.alice.token, form: f})
			ids := decodeAs[map[string][]uint64](t, r)["task_ids"]
			if r.status != 200 || len(ids) != 1 {
				t.Fatalf("create = %s", r)
			}
			r = e.do("GET", fmt.Sprintf("%s/%d", tp, ids[0]), req{token: e.bob.token})
			v := decodeAs[taskJSON](t, r)
			if r.status != 200 || v.LimitTime != tc.wantTime || v.LimitType != tc.wantLimit {
				t.Fatalf("task = %s, want limit_time %d, limit_type %s", r, tc.wantTime, tc.wantLimit)
			}
		})
	}
}
