package node

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Account is a local account as callers see it.
type Account struct {
	ID       protocol.AccountID `json:"id"`
	Alias    uint64             `json:"account_id"` // the ChatWork API's account_id
	Handle   protocol.Handle    `json:"handle"`
	Name     string             `json:"name"`
	Email    string             `json:"email,omitempty"`
	Org      string             `json:"org,omitempty"`
	Admin    bool               `json:"admin,omitempty"`
	Disabled bool               `json:"disabled,omitempty"`
	Created  int64              `json:"created"` // unix ms
	MyChat   protocol.RoomID    `json:"my_chat"`
	Avatar   string             `json:"avatar,omitempty"` // the avatar picture's version (avatars.go); "": none
}

// NewAccount describes an account to create.
type NewAccount struct {
	Handle   protocol.Handle // required: a-z0-9._- , unique on the node
	Name     string          // display name; default: the handle
	Email    string          // optional, unique on the node
	Password string          // optional: without one the account can only use API tokens
	Admin    bool            // may administer the node
}

// MinPasswordLen is the shortest password CreateAccount accepts.
const MinPasswordLen = 8

// CreateAccount creates a local account and its "my chat" room. The
// account's organization is the node's. It fails with ErrInvalid for a bad
// handle, email or password and ErrConflict if the handle or email is
// taken.
func (n *Node) CreateAccount(ctx context.Context, na NewAccount) (*Account, error) {
	if err := na.Handle.Validate(); err != nil {
		return nil, fmt.Errorf("create account: %w: %w", ErrInvalid, err)
	}
	if na.Name == "" {
		na.Name = string(na.Handle)
	}
	if len(na.Name) > protocol.MaxNameSize {
		return nil, fmt.Errorf("create account: %w", problem(ErrInvalid, "name too long"))
	}
	if na.Email != "" {
		if addr, err := mail.ParseAddress(na.Email); err != nil || addr.Address != na.Email {
			return nil, fmt.Errorf("create account: %w", problem(ErrInvalid, "%q is not an email address", na.Email))
		}
	}
	var hash string
	if na.Password != "" {
		if err := ValidPassword(na.Password); err != nil {
			return nil, fmt.Errorf("create account: %w", err)
		}
		var err error
		if hash, err = n.passwords.hash(ctx, na.Password); err != nil {
			return nil, fmt.Errorf("create account: %w", err)
		}
	}
	a := &storage.Account{Handle: na.Handle, Name: na.Name, Email: na.Email, Org: n.Org(),
		PasswordHash: hash, Admin: na.Admin, Created: n.cfg.Now().UnixMilli()}
	id := protocol.NewAccountID(n.id, na.Handle)
	nonce := make([]byte, 8)
	rand.Read(nonce)
	create, err := protocol.Sign(n.key, protocol.Event{Version: protocol.Version, Author: na.Handle, Time: a.Created}, &protocol.RoomCreate{
		Kind: protocol.KindMy, Name: na.Name, Nonce: nonce,
		Creator: protocol.MemberInfo{Account: id, Role: protocol.RoleAdmin, Name: na.Name, Org: n.Org()}})
	if err != nil {
		return nil, fmt.Errorf("create account: %w: %w", ErrInvalid, err)
	}
	a.MyChat = create.RoomID()
	err = n.store.Update(ctx, func(tx *storage.Tx) error {
		if _, err := tx.Account(na.Handle); err == nil {
			return problem(ErrConflict, "account %s already exists", na.Handle)
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if na.Email != "" {
			if _, err := tx.AccountByEmail(na.Email); err == nil {
				return problem(ErrConflict, "email %s is taken", na.Email)
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		}
		if _, err := tx.Alias(storage.AliasAccount, []byte(id)); err != nil {
			return err
		}
		if err := tx.PutAccount(nil, a); err != nil {
			return err
		}
		tx.AfterCommit(n.memberLists.reset) // a member of that ID is confirmed now
		return n.accept(tx, create)
	})
	if err != nil {
		return nil, fmt.Errorf("create account %s: %w", na.Handle, err)
	}
	n.metrics.published(create)
	return n.Account(ctx, na.Handle)
}

// Account returns a local account; ErrNotFound if there is none.
func (n *Node) Account(ctx context.Context, h protocol.Handle) (*Account, error) {
	var out *Account
	err := n.store.View(func(tx *storage.Tx) error {
		a, err := tx.Account(h)
		if err != nil {
			return noAccount(h, err)
		}
		out, err = n.account(tx, a)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get account %s: %w", h, err)
	}
	return out, nil
}

func (n *Node) account(tx *storage.Tx, a *storage.Account) (*Account, error) {
	id := protocol.NewAccountID(n.id, a.Handle)
	alias, err := tx.LookupAlias(storage.AliasAccount, []byte(id))
	if err != nil {
		return nil, err
	}
	return &Account{ID: id, Alias: alias, Handle: a.Handle, Name: a.Name, Email: a.Email, Org: a.Org,
		Admin: a.Admin, Disabled: a.Disabled, Created: a.Created, MyChat: a.MyChat, Avatar: avatarVersion(a.Avatar)}, nil
}

// Accounts returns the node's local accounts by handle.
func (n *Node) Accounts(ctx context.Context) ([]*Account, error) {
	out := []*Account{}
	err := n.store.View(func(tx *storage.Tx) error {
		as, err := tx.Accounts()
		if err != nil {
			return err
		}
		for _, a := range as {
			acc, err := n.account(tx, a)
			if err != nil {
				return err
			}
			out = append(out, acc)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return out, nil
}

// SetDisabled disables or re-enables an account. A disabled account's
// tokens and password stop working at once; its tokens are deleted.
func (n *Node) SetDisabled(ctx context.Context, h protocol.Handle, disabled bool) error {
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		old, err := tx.Account(h)
		if err != nil {
			return noAccount(h, err)
		}
		a := *old
		a.Disabled = disabled
		if disabled {
			if _, err := tx.DeleteTokens(h); err != nil {
				return err
			}
		}
		return tx.PutAccount(old, &a)
	})
	if err != nil {
		return fmt.Errorf("disable account %s: %w", h, err)
	}
	return nil
}

// Login checks a password for the account with a handle or email and
// returns it. Unknown accounts and wrong passwords both give
// ErrUnauthorized; a disabled account gives ErrDisabled.
func (n *Node) Login(ctx context.Context, login, password string) (*Account, error) {
	var a *storage.Account
	err := n.store.View(func(tx *storage.Tx) error {
		var err error
		if strings.Contains(login, "@") {
			a, err = tx.AccountByEmail(login)
		} else {
			a, err = tx.Account(protocol.Handle(login))
		}
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		// Spend the same time as for a real account.
		if _, err := n.passwords.check(ctx, dummyHash, password); err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
		return nil, ErrUnauthorized
	}
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	if ok, err := n.passwords.check(ctx, a.PasswordHash, password); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	} else if !ok {
		return nil, ErrUnauthorized
	}
	if a.Disabled {
		return nil, ErrDisabled
	}
	return n.Account(ctx, a.Handle)
}

// CreateToken makes a new API token for an account (a bot's: it never
// expires) and returns it. Only its hash is stored: the token cannot be
// shown again. The name SessionTokenName is reserved (ErrInvalid).
func (n *Node) CreateToken(ctx context.Context, h protocol.Handle, name string) (string, error) {
	if name == SessionTokenName {
		return "", fmt.Errorf("create token for %s: %w", h, problem(ErrInvalid, "token name %q is reserved for web sessions", name))
	}
	token := newToken()
	err := n.store.Update(ctx, func(tx *storage.Tx) error {
		a, err := tx.Account(h)
		if err != nil {
			return noAccount(h, err)
		}
		if a.Disabled {
			return ErrDisabled
		}
		return tx.PutToken(storage.HashToken(token), &storage.Token{Handle: h, Name: name, Created: n.cfg.Now().UnixMilli()})
	})
	if err != nil {
		return "", fmt.Errorf("create token for %s: %w", h, err)
	}
	return token, nil
}

// Authenticate returns the account an API token belongs to:
// ErrUnauthorized for an unknown token or an expired session or token
// (which it deletes), ErrDisabled for a disabled account. It records a
// token's use at most once a minute (touchEvery), so most calls only
// read. It does not say what the token may do: see AuthenticateGrant.
func (n *Node) Authenticate(ctx context.Context, token string) (*Account, error) {
	a, _, err := n.AuthenticateGrant(ctx, token)
	return a, err
}

// AuthenticateGrant is Authenticate that also returns what the token may
// do: nil for the full access of its account (web sessions, and tokens
// made without scopes or rooms).
func (n *Node) AuthenticateGrant(ctx context.Context, token string) (*Account, *Grant, error) {
	var out *Account
	var grant *Grant
	h := storage.HashToken(token)
	now := n.cfg.Now()
	gen := n.store.AuthGeneration() // before the View: see storage.Store.AuthGeneration
	if c, ok := n.auths.Get(h); ok && c.gen == gen && !n.expired(&c.token, now) && now.UnixMilli()-c.token.LastUsed < touchEvery.Milliseconds() {
		acc, t := c.account, c.token
		t.Scopes, t.Rooms = slices.Clone(t.Scopes), slices.Clone(t.Rooms) // the entry's stay unshared
		return &acc, grantOf(&t), nil
	}
	var expired, stale bool
	err := n.store.View(func(tx *storage.Tx) error {
		t, err := tx.Token(h)
		if errors.Is(err, storage.ErrNotFound) {
			return ErrUnauthorized
		}
		if err != nil {
			return err
		}
		if n.expired(t, now) {
			expired = true
			return ErrUnauthorized
		}
		stale = now.UnixMilli()-t.LastUsed >= touchEvery.Milliseconds()
		grant = grantOf(t)
		a, err := tx.Account(t.Handle)
		if err != nil {
			return err
		}
		if a.Disabled {
			return ErrDisabled
		}
		if out, err = n.account(tx, a); err == nil && !n.standby() {
			n.auths.Add(h, authEntry{gen: gen, token: *t, account: *out})
		}
		return err
	})
	if expired {
		// Deleted here, and by the account's next login, so expired
		// sessions and tokens do not pile up.
		if derr := n.store.Update(ctx, func(tx *storage.Tx) error {
			if err := tx.DeleteToken(h); !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			return nil
		}); derr != nil {
			n.log.Warn("delete expired session", "err", derr)
		}
	}
	if err == nil && stale {
		// A failed write of the last use (a full disk, a canceled
		// request) does not refuse the request: the next one retries it.
		if terr := n.touch(ctx, h, now); errors.Is(terr, ErrUnauthorized) {
			err = terr
		} else if terr != nil && !errors.Is(terr, ErrStandby) { // a standby records nothing
			n.log.Warn("record session use", "err", terr)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("authenticate: %w", err)
	}
	return out, grant, nil
}

// authEntry is what authenticating a token read (its record and its
// account's view), tagged with the store's AuthGeneration read before that
// read. Node.auths keeps them by token hash, and an entry serves only
// while the generation is unchanged: no account or token record was
// written since, so a revoked token, a disabled account or a changed
// scope is never served from it. It saved the three store reads every
// API request made (4% of a post's CPU).
type authEntry struct {
	gen     uint64
	token   storage.Token
	account Account
}

// authCacheTokens bounds Node.auths (an entry is a few hundred bytes).
const authCacheTokens = 8192

// Passwords are hashed with argon2id (RFC 9106) at the OWASP-recommended
// cost and stored in the PHC string format.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
)

var dummyHash = hashPassword("not a real password")

func hashPassword(pw string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	sum := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(sum))
}

func checkPassword(phc, pw string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// notFound turns the store's ErrNotFound into the node's.
// noAccount is the error of a lookup of local account h that failed with
// err: one that says so to a person if there is no such account.
func noAccount(h protocol.Handle, err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return &Problem{Kind: ErrNotFound, Msg: fmt.Sprintf("no account %s on this node", h), Cause: err}
	}
	return err
}

func notFound(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}
