package node

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/horenso/horenso/storage"
)

func TestSessionsAndRevoke(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice", Password: "correct horse"}))
	if _, _, err := n.StartSession(ctx, "alice", "wrong horse", Client{}); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("bad password = %v", err)
	}
	a, s1, err := n.StartSession(ctx, "alice", "correct horse", Client{})
	if err != nil || a.Handle != "alice" {
		t.Fatal(a, err)
	}
	_, s2, _ := n.StartSession(ctx, "alice", "correct horse", Client{})
	c1, again, c2 := n.CSRFToken(s1), n.CSRFToken(s1), n.CSRFToken(s2)
	if c1 == c2 || c1 != again || len(c1) < 40 {
		t.Fatal("CSRF tokens must be per session and stable")
	}
	if err := n.RevokeToken(ctx, s1); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Authenticate(ctx, s1); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("revoked session = %v", err)
	}
	if _, err := n.Authenticate(ctx, s2); err != nil {
		t.Fatalf("the other session = %v", err)
	}
	if err := n.RevokeToken(ctx, s1); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("revoking twice = %v", err)
	}
}

// clock is a test clock that only moves when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func newClockNode(t *testing.T, cfg Config) (*Node, *clock) {
	t.Helper()
	c := &clock{now: time.Unix(1_800_000_000, 0)}
	cfg.DataDir = t.TempDir()
	if _, err := Init(cfg.DataDir, "Acme"); err != nil {
		t.Fatal(err)
	}
	cfg.Logger, cfg.Now = testLogger(t), c.Now
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n, c
}

func TestSessionExpiry(t *testing.T) {
	n, clk := newClockNode(t, Config{SessionIdle: time.Hour, SessionMax: 3 * time.Hour})
	ctx := t.Context()
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice", Password: "correct horse"}))
	bot := must[string](t)(n.CreateToken(ctx, "alice", "bot"))
	start := func() string {
		t.Helper()
		_, s, err := n.StartSession(ctx, "alice", "correct horse", Client{UserAgent: "test", Addr: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	works := func(token string) bool {
		t.Helper()
		_, err := n.Authenticate(ctx, token)
		if err != nil && !errors.Is(err, ErrUnauthorized) {
			t.Fatal(err)
		}
		return err == nil
	}

	idle := start()
	used := start()
	// Used every 50 minutes, a session lives past its idle limit but not
	// past its absolute one.
	for range 3 {
		clk.advance(50 * time.Minute)
		if !works(used) {
			t.Fatal("a session in use expired before SessionMax")
		}
	}
	if works(idle) {
		t.Fatal("a session idle for 150 minutes still works (SessionIdle is 1h)")
	}
	clk.advance(35 * time.Minute) // 3h05m after the start
	if works(used) {
		t.Fatal("a session still works after SessionMax")
	}
	if !works(bot) {
		t.Fatal("a bot's token expired")
	}
	// Expired sessions are deleted: none is listed, and a new one is.
	if ss := must[[]*Session](t)(n.Sessions(ctx, "alice")); len(ss) != 0 {
		t.Fatalf("sessions after expiry = %+v", ss)
	}
	s := start()
	ss := must[[]*Session](t)(n.Sessions(ctx, "alice"))
	if len(ss) != 1 || ss[0].ID != SessionID(s) || ss[0].UserAgent != "test" || ss[0].Addr != "192.0.2.1" ||
		ss[0].Created != clk.Now().UnixMilli() {
		t.Fatalf("sessions = %+v", ss)
	}
	if err := n.EndSession(ctx, "alice", "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ending an unknown session = %v", err)
	}
	if err := n.EndSession(ctx, "alice", ss[0].ID); err != nil || works(s) {
		t.Fatalf("EndSession = %v, session works: %v", err, works(s))
	}
	if _, err := n.CreateToken(ctx, "alice", SessionTokenName); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a bot token named like sessions = %v", err)
	}
}

// TestSessionLastUseIsCheap: a session's last use is written at most once
// a minute, and a session from before last use was recorded counts from
// its first use.
func TestSessionLastUseIsCheap(t *testing.T) {
	n, clk := newClockNode(t, Config{SessionIdle: time.Hour})
	ctx := t.Context()
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice", Password: "correct horse"}))
	_, s, err := n.StartSession(ctx, "alice", "correct horse", Client{})
	if err != nil {
		t.Fatal(err)
	}
	h := storage.HashToken(s)
	lastUsed := func() int64 {
		var t0 int64
		n.store.View(func(tx *storage.Tx) error {
			tk, err := tx.Token(h)
			if err == nil {
				t0 = tk.LastUsed
			}
			return err
		})
		return t0
	}
	created := clk.Now().UnixMilli()
	clk.advance(30 * time.Second)
	must[*Account](t)(n.Authenticate(ctx, s))
	if got := lastUsed(); got != created {
		t.Fatalf("last use written after 30s: %d, want %d", got, created)
	}
	clk.advance(31 * time.Second)
	must[*Account](t)(n.Authenticate(ctx, s))
	if got := lastUsed(); got != clk.Now().UnixMilli() {
		t.Fatalf("last use after 61s = %d, want %d", got, clk.Now().UnixMilli())
	}

	// A session record as written before last use was recorded: no
	// LastUsed. It is not expired however old, and counts from now.
	n.store.Update(ctx, func(tx *storage.Tx) error {
		tk, err := tx.Token(h)
		if err != nil {
			return err
		}
		tk.LastUsed = 0
		return tx.PutToken(h, tk)
	})
	clk.advance(50 * time.Minute)
	must[*Account](t)(n.Authenticate(ctx, s))
	clk.advance(50 * time.Minute)
	must[*Account](t)(n.Authenticate(ctx, s))
	clk.advance(61 * time.Minute)
	if _, err := n.Authenticate(ctx, s); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("old session idle for 61 minutes = %v", err)
	}
}

func TestChangeAndResetPassword(t *testing.T) {
	n := newTestNode(t, t.TempDir())
	ctx := t.Context()
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice", Password: "correct horse"}))
	bot := must[string](t)(n.CreateToken(ctx, "alice", "bot"))
	session := func(pw string) string {
		t.Helper()
		_, s, err := n.StartSession(ctx, "alice", pw, Client{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	works := func(token string) bool { _, err := n.Authenticate(ctx, token); return err == nil }
	here, other := session("correct horse"), session("correct horse")
	for _, c := range []struct {
		name          string
		current, next string
		want          error
	}{
		{"wrong current", "wrong horse", "battery staple", ErrUnauthorized},
		{"too short", "correct horse", "short", ErrInvalid},
		{"too long", "correct horse", strings.Repeat("x", MaxPasswordLen+1), ErrInvalid},
	} {
		if err := n.ChangePassword(ctx, "alice", c.current, c.next, here); !errors.Is(err, c.want) {
			t.Errorf("%s: ChangePassword = %v, want %v", c.name, err, c.want)
		}
	}
	if !works(other) {
		t.Fatal("a refused change ended a session")
	}
	if err := n.ChangePassword(ctx, "alice", "correct horse", "battery staple", here); err != nil {
		t.Fatal(err)
	}
	if !works(here) || works(other) || !works(bot) {
		t.Fatalf("after a change: this session %v, other %v, bot %v; want true, false, true", works(here), works(other), works(bot))
	}
	if _, err := n.Login(ctx, "alice", "correct horse"); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("old password = %v", err)
	}
	pw := must[string](t)(n.ResetPassword(ctx, "alice"))
	if works(here) || !works(bot) || len(pw) < MinPasswordLen {
		t.Fatalf("after a reset: session %v, bot %v, password %q", works(here), works(bot), pw)
	}
	session(pw)
	if err := n.SetPassword(ctx, "alice", "admin chose this"); err != nil {
		t.Fatal(err)
	}
	session("admin chose this")
	if err := n.SetPassword(ctx, "nobody", "admin chose this"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetPassword of an unknown account = %v", err)
	}
}

// TestAuthCache: a token authenticated once is served from memory, and
// nothing that changes what it may do waits for the cache: revoking it,
// another token's change of scope, its expiry, disabling its account.
func TestAuthCache(t *testing.T) {
	n, clk := newClockNode(t, Config{})
	ctx := t.Context()
	must[*Account](t)(n.CreateAccount(ctx, NewAccount{Handle: "alice", Password: "correct horse"}))
	bot := must[string](t)(n.CreateToken(ctx, "alice", "bot"))
	cached := func(tok string) bool {
		e, ok := n.auths.Get(storage.HashToken(tok))
		return ok && e.gen == n.store.AuthGeneration()
	}
	// The first use records the token's last use, a write of its record
	// that outdates what that use read; the second is remembered.
	for range 2 {
		if _, err := n.Authenticate(ctx, bot); err != nil {
			t.Fatal(err)
		}
	}
	if !cached(bot) {
		t.Fatal("a token used twice is not cached")
	}
	if a, err := n.Authenticate(ctx, bot); err != nil || a.Handle != "alice" {
		t.Fatalf("from the cache: %v, %v", a, err)
	}

	scoped := must[*TokenInfo](t)(n.CreateScopedToken(ctx, "alice", TokenSpec{Name: "reader", Scopes: []string{"rooms.messages:read"}, TTL: time.Hour}))
	for range 2 {
		if _, g, err := n.AuthenticateGrant(ctx, scoped.Token); err != nil || g.Allows("rooms.messages:write") {
			t.Fatalf("scoped token: %+v, %v", g, err)
		}
	}
	if err := n.RevokeToken(ctx, bot); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Authenticate(ctx, bot); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("revoked token after being cached: %v, want ErrUnauthorized", err)
	}
	if _, err := n.Authenticate(ctx, scoped.Token); err != nil || !cached(scoped.Token) {
		t.Fatalf("scoped token again: %v, cached %v", err, cached(scoped.Token))
	}
	clk.advance(time.Hour)
	if _, err := n.Authenticate(ctx, scoped.Token); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("expired token after being cached: %v, want ErrUnauthorized", err)
	}
}

// An ID shown by `horenso token list` is pasted as an argument of `horenso
// token revoke`: it must never begin with "-", or the CLI reads it as a flag.
func TestSessionIDIsNeverAFlag(t *testing.T) {
	for i := range 2000 {
		token := strconv.Itoa(i)
		if id := SessionID(token); id == "" || strings.HasPrefix(id, "-") {
			t.Fatalf("SessionID(%q) = %q", token, id)
		}
	}
}
