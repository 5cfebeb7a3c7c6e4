package api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzAPI sends random methods, paths, credentials, content types and
// bodies through the handler and checks it never panics and never answers
// 5xx, except 503 for a request cut off by its deadline and 501 for what
// the node does not have yet (see notBuilt). Every error is in ChatWork's
// shape. Run it with: go test -run='^$' -fuzz=FuzzAPI -fuzztime=10s ./node/api
func FuzzAPI(f *testing.F) {
	e := newEnv(f, Config{RateLimit: -1})
	m := e.post(e.alice, e.room, "hello")
	room, msg := itoa(e.room.Alias), itoa(m.Alias)
	for _, s := range []struct {
		method uint8
		path   string
		cred   uint8
		ctype  uint8
		body   string
	}{
		{0, "/v2/me", 1, 0, ""},
		{0, "/v2/rooms/" + room + "/messages?force=1", 1, 0, ""},
		{1, "/v2/rooms/" + room + "/messages", 1, 0, "body=hi%20[To:1]&self_unread=1"},
		{1, "/v2/rooms", 1, 0, "name=x&members_admin_ids=1,2,3&link=1&link_code=abc"},
		{2, "/v2/rooms/" + room + "/members", 1, 1, `{"members_admin_ids": [1, 2], "members_member_ids": "3"}`},
		{2, "/v2/rooms/" + room + "/messages/" + msg, 2, 0, "body=[rp aid=1 to=1-1]x"},
		{3, "/v2/rooms/" + room + "?action_type=delete", 2, 0, ""},
		{1, "/v2/rooms/" + room + "/tasks", 1, 0, "body=t&to_ids=1,2&limit=99999999999999999999&limit_type=date"},
		{2, "/v2/rooms/" + room + "/tasks/1/status", 2, 0, "body=done"},
		{1, "/v2/rooms/" + room + "/files", 1, 2, "--x\r\n"},
		{2, "/v2/rooms/" + room + "/link", 1, 0, "code=%ff&need_acceptance=1"},
		{1, "/api/login", 0, 1, `{"login": "alice", "password": ["x"]}`},
		{1, "/api/logout", 3, 0, ""},
		{0, "/api/rooms/" + room + "/messages?before=1&limit=-5", 1, 0, ""},
		{0, "/api/events?after=1", 1, 0, ""},
		{1, "/api/join/%00", 1, 0, ""},
		{4, "/v2/incoming_requests/1/accept", 1, 0, ""},
		{0, "/v2/rooms/18446744073709551616", 1, 0, ""},
	} {
		f.Add(s.method, s.path, s.cred, s.ctype, []byte(s.body))
	}
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get", "PO ST"}
	ctypes := []string{"application/x-www-form-urlencoded", "application/json", "multipart/form-data; boundary=x", "", "text/plain", "application/json; charset=%%"}
	cookie, csrf := e.login(e.carol)
	f.Fuzz(func(t *testing.T, method uint8, path string, cred uint8, ctype uint8, body []byte) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		r, err := http.NewRequestWithContext(ctx, methods[int(method)%len(methods)], "http://node"+path, bytes.NewReader(body))
		if err != nil {
			return // not a request a server could receive
		}
		if ct := ctypes[int(ctype)%len(ctypes)]; ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		switch cred % 6 {
		case 1:
			r.Header.Set("X-ChatWorkToken", e.alice.token)
		case 2:
			r.Header.Set("Authorization", "Bearer "+e.bob.token)
		case 3:
			r.AddCookie(cookie)
			r.Header.Set(csrfHeader, csrf)
		case 4:
			r.AddCookie(cookie)
		case 5:
			r.Header.Set("X-ChatWorkToken", string(body))
		}
		w := httptest.NewRecorder()
		e.api.ServeHTTP(w, r)
		status := w.Code
		if status >= 500 && status != http.StatusServiceUnavailable {
			t.Fatalf("%s %q = %d %s", r.Method, path, status, w.Body)
		}
		if status >= 400 && r.Method != "HEAD" {
			var resp response
			resp.status, resp.body = status, w.Body.Bytes()
			resp.errors(t)
		}
	})
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
