package api

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/horenso/horenso/node"
)

// testPNG returns a w×h PNG of one color.
func testPNG(t testing.TB, w, h int, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// raw sends body as is, with a content type, as u (by API token).
func (e *env) raw(method, path string, u *user, ctype string, body []byte) *response {
	e.t.Helper()
	r, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	r.Header.Set("Content-Type", ctype)
	r.Header.Set("X-ChatWorkToken", u.token)
	resp, err := e.srv.Client().Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &response{status: resp.StatusCode, header: resp.Header, body: b}
}

func TestSetDisplayName(t *testing.T) {
	e := newEnv(t, Config{RateLimit: -1})
	m := e.post(e.alice, e.room, "hello")
	r := e.do("PUT", "/api/me/profile", req{token: e.alice.token, form: form("name", "Alice Sato-Kimura")})
	if r.status != 200 {
		t.Fatalf("set name = %s", r)
	}
	var p profileJSON
	r.decode(t, &p)
	if p.Name != "Alice Sato-Kimura" {
		t.Fatalf("profile = %+v", p)
	}
	// Others see the new name on what alice wrote before.
	var got messageJSON
	e.do("GET", "/v2/rooms/"+itoa(e.room.Alias)+"/messages/"+itoa(m.Alias), req{token: e.bob.token}).decode(t, &got)
	if got.Account.Name != "Alice Sato-Kimura" {
		t.Fatalf("message account = %+v, want the new name", got.Account)
	}
	for _, tc := range []struct {
		name string
		form []string
	}{
		{"empty", []string{"name", ""}},
		{"blank", []string{"name", "   "}},
		{"missing", nil},
		{"too long", []string{"name", strings.Repeat("x", 300)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("PUT", "/api/me/profile", req{token: e.alice.token, form: form(tc.form...)})
			if r.status != 400 {
				t.Fatalf("= %s, want 400", r)
			}
			r.errors(t)
		})
	}
}

func TestAvatar(t *testing.T) {
	e := newEnv(t, Config{RateLimit: -1})
	m := e.post(e.alice, e.room, "hello")
	big := testPNG(t, 800, 600, color.RGBA{200, 30, 30, 255})
	r := e.raw("PUT", "/api/me/avatar", e.alice, "image/png", big)
	if r.status != 200 {
		t.Fatalf("set avatar = %s", r)
	}
	var p profileJSON
	r.decode(t, &p)
	if !strings.HasPrefix(p.Avatar, "/api/avatars/"+itoa(e.alice.Alias)+"?v=") {
		t.Fatalf("avatar_image_url = %q", p.Avatar)
	}
	// The timeline, /v2/me and the picture itself, scaled down.
	var got messageJSON
	e.do("GET", "/v2/rooms/"+itoa(e.room.Alias)+"/messages/"+itoa(m.Alias), req{token: e.bob.token}).decode(t, &got)
	if got.Account.Avatar != p.Avatar {
		t.Fatalf("message account = %+v, want avatar %q", got.Account, p.Avatar)
	}
	var me meJSON
	e.do("GET", "/v2/me", req{token: e.alice.token}).decode(t, &me)
	if me.Avatar != p.Avatar {
		t.Fatalf("/v2/me avatar = %q, want %q", me.Avatar, p.Avatar)
	}
	var members []memberJSON
	e.do("GET", "/v2/rooms/"+itoa(e.room.Alias)+"/members", req{token: e.bob.token}).decode(t, &members)
	for _, m := range members {
		want := ""
		if m.AccountID == e.alice.Alias {
			want = p.Avatar
		}
		if m.Avatar != want {
			t.Fatalf("member %d avatar = %q, want %q", m.AccountID, m.Avatar, want)
		}
	}
	var dir struct {
		People []personJSON `json:"people"`
	}
	e.do("GET", "/api/people", req{token: e.bob.token, form: form("q", "alice")}).decode(t, &dir)
	if len(dir.People) != 1 || dir.People[0].Avatar != p.Avatar {
		t.Fatalf("directory = %+v, want alice with avatar %q", dir.People, p.Avatar)
	}
	pic := e.do("GET", p.Avatar, req{token: e.carol.token})
	if pic.status != 200 || pic.header.Get("Content-Type") != "image/png" || !strings.Contains(pic.header.Get("Cache-Control"), "immutable") {
		t.Fatalf("avatar = %d %v", pic.status, pic.header)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(pic.body))
	if err != nil || cfg.Width != node.ThumbSize || cfg.Height != 240 {
		t.Fatalf("avatar picture = %+v, %v; want %dx240", cfg, err, node.ThumbSize)
	}
	// Bob has none; what is not an image is refused; a new picture gets
	// a new URL.
	if r := e.do("GET", "/api/avatars/"+itoa(e.bob.Alias), req{token: e.alice.token}); r.status != 404 {
		t.Fatalf("bob's avatar = %s, want 404", r)
	} else {
		r.errors(t)
	}
	if r := e.raw("PUT", "/api/me/avatar", e.alice, "image/png", []byte("not a picture")); r.status != 400 {
		t.Fatalf("bad picture = %s, want 400", r)
	} else {
		r.errors(t)
	}
	var p2 profileJSON
	e.raw("PUT", "/api/me/avatar", e.alice, "image/png", testPNG(t, 64, 64, color.RGBA{0, 0, 200, 255})).decode(t, &p2)
	if p2.Avatar == "" || p2.Avatar == p.Avatar {
		t.Fatalf("new avatar URL %q, old %q", p2.Avatar, p.Avatar)
	}
	if r := e.do("GET", p.Avatar, req{token: e.bob.token}); strings.Contains(r.header.Get("Cache-Control"), "immutable") {
		t.Fatalf("the old version's URL may still be cached: %v", r.header)
	}
	// Cleared, it is gone.
	var p3 profileJSON
	e.do("DELETE", "/api/me/avatar", req{token: e.alice.token}).decode(t, &p3)
	if p3.Avatar != "" {
		t.Fatalf("cleared avatar = %q", p3.Avatar)
	}
	if r := e.do("GET", "/api/avatars/"+itoa(e.alice.Alias), req{token: e.bob.token}); r.status != 404 {
		t.Fatalf("cleared avatar = %s, want 404", r)
	}
	if r := e.do("GET", "/api/avatars/"+itoa(e.alice.Alias), req{}); r.status != 401 {
		t.Fatalf("avatar without credentials = %s, want 401", r)
	}
}

func TestEndOtherSessions(t *testing.T) {
	e := newEnv(t, Config{RateLimit: -1})
	here, csrf := e.login(e.alice)
	other1, _ := e.login(e.alice)
	other2, _ := e.login(e.alice)
	r := e.do("DELETE", "/api/sessions", req{cookie: here, header: map[string]string{"X-CSRF-Token": csrf}})
	if r.status != 200 || !strings.Contains(string(r.body), `"ended":2`) {
		t.Fatalf("end other sessions = %s", r)
	}
	for _, c := range []*http.Cookie{other1, other2} {
		if r := e.do("GET", "/api/session", req{cookie: c}); r.status != 401 {
			t.Fatalf("other session after sign-out = %s", r)
		}
	}
	if r := e.do("GET", "/api/session", req{cookie: here}); r.status != 200 {
		t.Fatalf("this session = %s", r)
	}
	if r := e.do("GET", "/v2/me", req{token: e.alice.token}); r.status != 200 {
		t.Fatalf("bot token after sign-out of other sessions = %s", r)
	}
}
