package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Files. A file is shared by a file post: a message.post whose payload
// carries the file's SHA-256, size, name and media type (protocol.FileRef)
// beside the optional message. So a file is content as a message is: it
// is deleted, hidden (soft-fail) and redacted with its post, and every
// member node derives the same file list from the same events. The node
// gives each file post it shows a file_id (storage.AliasFile) and a file
// record (storage.File), and shows the post's message as ChatWork does:
// the optional message, then
//
//	[info][title][dtext:file_uploaded][/title][download:<file_id>]name (size)[/download][/info]
//
// rendered when the post is applied and stored in the timeline like any
// body (the file_id is this node's alias, as message_ids are).
//
// The bytes live in the blob store (blobs.go), by hash, once for every
// file that has them. When the last file with a blob's bytes goes (its
// post deleted, edited away, hidden or expired), the node removes the
// blob. Member nodes fetch a blob they lack from another member node of
// a room whose file post names it (fetch.go).

// Defaults of the file settings in Config.
const (
	// DefaultMaxFileSize is ChatWork's API limit on one file: 5 MB.
	DefaultMaxFileSize = 5 << 20
	// DefaultAccountQuota bounds the files one account has posted: 10 GiB.
	DefaultAccountQuota = 10 << 30
	// DefaultEagerFetchMax: files up to 1 MiB are fetched from partners
	// as soon as their post arrives, larger ones on first download.
	DefaultEagerFetchMax = 1 << 20
	// DefaultMaxFetchSize bounds a file this node fetches from partners:
	// 4 GiB.
	DefaultMaxFetchSize = 4 << 30
)

// FilePolicy is an organization's outbound policy for files posted in
// rooms shared with other organizations (rooms with a member of another
// node). The zero FilePolicy allows every file the node accepts.
type FilePolicy struct {
	// Deny refuses every file in shared rooms.
	Deny bool `json:"deny,omitempty"`
	// MaxSize, if positive, bounds a file's size in shared rooms.
	MaxSize int64 `json:"max_size,omitempty"`
	// Types, if not empty, lists the media types allowed in shared
	// rooms: "image/png", or "image/*" for a whole kind.
	Types []string `json:"types,omitempty"`
}

func (p FilePolicy) allows(size int64, mediaType string) error {
	switch {
	case p.Deny:
		return problem(ErrForbidden, "files cannot be shared with other organizations in this room")
	case p.MaxSize > 0 && size > p.MaxSize:
		return problem(ErrForbidden, "file is too large to share with other organizations (max %d bytes)", p.MaxSize)
	case len(p.Types) == 0:
		return nil
	}
	mt, _, _ := mime.ParseMediaType(mediaType)
	kind, _, _ := strings.Cut(mt, "/")
	for _, t := range p.Types {
		if strings.EqualFold(t, mt) || t == kind+"/*" {
			return nil
		}
	}
	return problem(ErrForbidden, "files of type %q cannot be shared with other organizations", mt)
}

// File is a file as callers see it.
type File struct {
	ID      uint64             `json:"file_id"`
	Message uint64             `json:"message_id"`
	Post    protocol.EventID   `json:"post"`
	Room    protocol.RoomID    `json:"room"`
	Author  protocol.AccountID `json:"author"`
	Name    string             `json:"filename"`
	Type    string             `json:"type,omitempty"`
	Size    int64              `json:"filesize"`
	Time    int64              `json:"upload_time"` // unix ms at the author's node
	Hash    []byte             `json:"-"`
	// Held: this node holds the bytes; if not, a download fetches them
	// from a member node of the room first.
	Held bool `json:"held"`
}

func (n *Node) fileView(f *storage.File) *File {
	return &File{ID: f.ID, Message: f.Message, Post: f.Event, Room: f.Room, Author: f.Author, Name: f.Name,
		Type: f.Type, Size: int64(f.Size), Time: f.Time, Hash: f.Hash, Held: n.blobs.has(f.Hash)}
}

// NewFile is a file to post: its name, media type (detected from the name
// if empty), optional message and bytes: Data, or an Upload staged
// before (which PostFile then owns).
type NewFile struct {
	Name   string
	Type   string
	Body   string
	Data   io.Reader
	Upload *Upload
}

// Upload is a file's bytes staged in the blob store and not posted yet.
// PostFile takes it; Discard drops one that will not be posted.
type Upload struct {
	f    *os.File
	sum  []byte
	size int64
}

// Discard drops the staged bytes.
func (u *Upload) Discard() { discard(u.f) }

// StageFile streams r into the blob store, up to Config.MaxFileSize bytes
// (ErrInvalid past it; ErrDiskFull past the disk's free space above
// Config.MinFreeDisk), for a PostFile to come: so an HTTP upload can read
// its form's parts in any order.
func (n *Node) StageFile(ctx context.Context, r io.Reader) (*Upload, error) {
	// The blob store shares the store's disk: a file may not take it
	// below the floor the store keeps (Config.MinFreeDisk).
	limit, diskBound := n.cfg.MaxFileSize, false
	if free, full := n.store.Space(); full {
		return nil, fmt.Errorf("stage file: %w", ErrDiskFull)
	} else if floor := cmp.Or(n.cfg.MinFreeDisk, DefaultMinFreeDisk); floor >= 0 && free > 0 && free-floor < limit {
		limit, diskBound = max(free-floor, 0), true
	}
	f, sum, size, err := n.blobs.stage(ctx, r, limit)
	if errors.Is(err, errBlobTooLarge) && diskBound {
		return nil, fmt.Errorf("stage file: %w", ErrDiskFull)
	}
	if errors.Is(err, errBlobTooLarge) {
		return nil, problem(ErrInvalid, "file is too large (max %d bytes)", n.cfg.MaxFileSize)
	}
	if err != nil {
		return nil, fmt.Errorf("stage file: %w", err)
	}
	return &Upload{f: f, sum: sum, size: size}, nil
}

// ErrNoFile is returned (wrapped in ErrNotFound) for an unknown file.
var ErrNoFile = errors.New("no such file")

// cleanName returns the base name of a client's file name, or a problem.
func cleanName(name string) (string, error) {
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base(name)
	switch {
	case name == "" || name == "." || name == "/" || name == "..":
		return "", problem(ErrInvalid, "file name is empty")
	case len(name) > protocol.MaxFileNameSize:
		return "", problem(ErrInvalid, "file name is too long (max %d bytes)", protocol.MaxFileNameSize)
	case !utf8.ValidString(name) || strings.IndexByte(name, 0) >= 0:
		return "", problem(ErrInvalid, "file name is not valid UTF-8")
	}
	return name, nil
}

// mediaType returns the media type to record for a file: the client's, if
// well formed, else one guessed from the name, else "".
func mediaType(given, name string) string {
	if mt, params, err := mime.ParseMediaType(given); err == nil && len(given) <= protocol.MaxFileNameSize {
		if cs, ok := params["charset"]; ok {
			return mime.FormatMediaType(mt, map[string]string{"charset": cs})
		}
		return mt
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		mt, _, _ := mime.ParseMediaType(t)
		return mt
	}
	return ""
}

// PostFile posts a file in a room as a member: it streams nf.Data into the
// blob store (at most Config.MaxFileSize bytes), checks the account's
// quota and, in a room shared with other organizations, the outbound
// policy, then posts the file post. It returns once the post is durable.
// Errors: ErrInvalid (bad name or body, too large), ErrForbidden (quota,
// policy, room rules), ErrNotFound (room).
func (n *Node) PostFile(ctx context.Context, as protocol.Handle, room protocol.RoomID, nf NewFile) (*File, error) {
	f, err := n.postFile(ctx, as, room, nf)
	return f, wrapOp("post file", err)
}

func (n *Node) postFile(ctx context.Context, as protocol.Handle, room protocol.RoomID, nf NewFile) (*File, error) {
	up := nf.Upload
	defer func() {
		if up != nil {
			up.Discard()
		}
	}()
	name, err := cleanName(nf.Name)
	if err != nil {
		return nil, err
	}
	if nf.Body != "" {
		if err := checkBody(nf.Body); err != nil {
			return nil, err
		}
	}
	var shared bool
	var used uint64
	err = n.store.View(func(tx *storage.Tx) error {
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		c, err := n.control(tx, room)
		if err != nil {
			return err
		}
		for a := range c.Members.All() {
			shared = shared || a.Node() != n.id
		}
		used, err = tx.Usage(protocol.NewAccountID(n.id, as))
		return err
	})
	if err != nil {
		return nil, err
	}
	if shared && n.cfg.PartnerFiles.Deny {
		return nil, n.cfg.PartnerFiles.allows(0, "")
	}
	if up == nil {
		if up, err = n.StageFile(ctx, nf.Data); err != nil {
			return nil, err
		}
	}
	typ := mediaType(nf.Type, name)
	if shared {
		if err := n.cfg.PartnerFiles.allows(up.size, typ); err != nil {
			return nil, err
		}
	}
	if n.cfg.AccountQuota > 0 && used+uint64(up.size) > uint64(n.cfg.AccountQuota) {
		return nil, problem(ErrForbidden, "file quota exceeded (%d of %d bytes used)", used, n.cfg.AccountQuota)
	}
	// Held shared from the blob's commit to its post's: the collector
	// cannot remove the blob in between (see blobs.mu).
	n.blobs.mu.RLock()
	defer n.blobs.mu.RUnlock()
	sum, size := up.sum, up.size
	err = n.blobs.commit(ctx, up.f, sum)
	up = nil
	if err != nil {
		return nil, err
	}
	ref := &protocol.FileRef{Hash: sum, Size: uint64(size), Name: name, Type: typ}
	e, err := n.act(ctx, as, room, &protocol.MessagePost{Body: nf.Body, File: ref})
	if err != nil {
		n.queueCollect(sum)
		return nil, err
	}
	var out *File
	err = n.store.View(func(tx *storage.Tx) error {
		f, err := tx.FileOf(e.ID)
		if err == nil {
			out = n.fileView(f)
		}
		return err
	})
	return out, err
}

// Files returns up to 100 files of a room as is a member of, newest
// first; by, if not empty, keeps only that account's.
func (n *Node) Files(ctx context.Context, as protocol.Handle, room protocol.RoomID, by protocol.AccountID) ([]*File, error) {
	var out []*File
	err := n.store.View(func(tx *storage.Tx) error {
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		fs, err := tx.RoomFiles(room, by, 100)
		if err != nil {
			return err
		}
		for _, f := range fs {
			ok, err := n.mayRead(tx, as, room, f)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, n.fileView(f))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	}
	return out, nil
}

// mayRead reports whether as may read the post of f under the room's
// history visibility.
func (n *Node) mayRead(tx *storage.Tx, as protocol.Handle, room protocol.RoomID, f *storage.File) (bool, error) {
	_, m, err := tx.Message(f.Event)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	out := messageView(room, m)
	if err := n.hideFrom(tx, as, room, []*storage.Message{m}, []*Message{out}); err != nil {
		return false, err
	}
	return !out.Deleted, nil
}

// File returns file id of a room as is a member of.
func (n *Node) File(ctx context.Context, as protocol.Handle, room protocol.RoomID, id uint64) (*File, error) {
	var out *File
	err := n.store.View(func(tx *storage.Tx) error {
		if err := n.canRead(tx, as, room); err != nil {
			return err
		}
		f, err := tx.File(id)
		if errors.Is(err, storage.ErrNotFound) || err == nil && f.Room != room {
			return fmt.Errorf("%w: %w", ErrNotFound, ErrNoFile)
		}
		if err != nil {
			return err
		}
		ok, err := n.mayRead(tx, as, room, f)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %w", ErrNotFound, ErrNoFile)
		}
		out = n.fileView(f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get file: %w", err)
	}
	return out, nil
}

// OpenFile opens the bytes of file id of a room as is a member of for
// reading. If the node does not hold them yet it fetches them first from
// a member node of the room (which may take a while: ctx bounds it).
// The caller closes the reader.
func (n *Node) OpenFile(ctx context.Context, as protocol.Handle, room protocol.RoomID, id uint64) (io.ReadSeekCloser, *File, error) {
	f, err := n.File(ctx, as, room, id)
	if err != nil {
		return nil, nil, err
	}
	if !f.Held {
		if err := n.fetchBlob(ctx, room, f.Hash, f.Size, f.Author.Node()); err != nil {
			return nil, nil, fmt.Errorf("open file: %w", err)
		}
		f.Held = true
	}
	r, _, err := n.blobs.open(ctx, f.Hash)
	if err != nil {
		return nil, nil, fmt.Errorf("open file: %w", err)
	}
	return r, f, nil
}

// Usage returns the bytes of the files local account as has posted that
// still show, and its quota (0: none).
func (n *Node) Usage(ctx context.Context, as protocol.Handle) (used, quota int64, err error) {
	err = n.store.View(func(tx *storage.Tx) error {
		u, err := tx.Usage(protocol.NewAccountID(n.id, as))
		used = int64(u)
		return err
	})
	return used, max(n.cfg.AccountQuota, 0), wrapOp("file usage", err)
}

// FilePolicy returns the outbound policy for files in rooms shared with
// other organizations, for the composer to show.
func (n *Node) FilePolicy() (FilePolicy, int64) { return n.cfg.PartnerFiles, n.cfg.MaxFileSize }

// putFile records the file of post, just applied as message m in room,
// and gives m its ChatWork body. It marks the blob for fetching if the
// node lacks it and it is small enough to fetch at once.
func (n *Node) putFile(tx *storage.Tx, room protocol.RoomID, post *protocol.Signed, m *storage.Message) error {
	ref := m.File
	if ref == nil {
		return nil
	}
	id, err := tx.Alias(storage.AliasFile, post.ID[:])
	if err != nil {
		return err
	}
	f := &storage.File{ID: id, Event: post.ID, Room: room, Author: post.AuthorID(), Hash: ref.Hash, Size: ref.Size,
		Name: ref.Name, Type: ref.Type, Time: post.Time, Message: m.Alias}
	if err := tx.PutFile(f); err != nil {
		return err
	}
	m.Body = fileBody(m.Body, id, ref)
	if !n.blobs.has(ref.Hash) && n.cfg.EagerFetchMax >= 0 && ref.Size <= uint64(n.cfg.EagerFetchMax) {
		if err := tx.SetFetch(ref.Hash, room); err != nil {
			return err
		}
		tx.AfterCommit(n.wakeFetcher)
	}
	return nil
}

// renderFile gives m, a file post's message rebuilt from its events, the
// body putFile gave it.
func renderFile(tx *storage.Tx, m *storage.Message) error {
	if m.File == nil {
		return nil
	}
	f, err := tx.FileOf(m.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	m.Body = fileBody(m.Body, f.ID, m.File)
	return nil
}

// dropFile removes the file of post, if it has one the node shows: its
// post was deleted, edited away, hidden or expired. The blob goes too
// once no file has its bytes.
func (n *Node) dropFile(tx *storage.Tx, post protocol.EventID) error {
	f, err := tx.FileOf(post)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	referenced, err := tx.DeleteFile(f)
	if err != nil {
		return err
	}
	if !referenced {
		tx.AfterCommit(func() { n.queueCollect(f.Hash) })
	}
	return nil
}

// fileBody is ChatWork's message for a file: the optional message, then
// the file_uploaded notice with the file's download tag.
func fileBody(body string, id uint64, f *protocol.FileRef) string {
	var b strings.Builder
	if body != "" {
		b.WriteString(body)
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "[info][title][dtext:file_uploaded][/title][download:%d]%s (%s)[/download][/info]", id, f.Name, humanSize(f.Size))
	return b.String()
}

// humanSize writes a size as ChatWork's file notices do: "532 B",
// "12.34 KB", "1.20 MB" (powers of 1024).
func humanSize(n uint64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.2f KB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.2f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GB", float64(n)/(1<<30))
}

// DataDirForTest returns the node's data directory.
func (n *Node) DataDirForTest() string { return n.cfg.DataDir }

// checkNotFile refuses to edit a file post: a winning edit would take the
// file away with the text (the protocol's rule), which no one editing a
// message means to do. Deleting it is the way to take a file back.
func (n *Node) checkNotFile(id protocol.EventID) error {
	return n.store.View(func(tx *storage.Tx) error {
		_, err := tx.FileOf(id)
		switch {
		case err == nil:
			return problem(ErrInvalid, "a file's message cannot be edited; delete it and post the file again")
		case errors.Is(err, storage.ErrNotFound):
			return nil
		}
		return err
	})
}

// FilePost returns the ID of the file post of file id, if as may read it
// (a member of its room, under the room's history visibility).
func (n *Node) FilePost(ctx context.Context, as protocol.Handle, id uint64) (protocol.EventID, error) {
	var post protocol.EventID
	err := n.store.View(func(tx *storage.Tx) error {
		f, err := tx.File(id)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: %w", ErrNotFound, ErrNoFile)
		}
		if err != nil {
			return err
		}
		if err := n.canRead(tx, as, f.Room); err != nil {
			return err
		}
		ok, err := n.mayRead(tx, as, f.Room, f)
		if err == nil && !ok {
			err = fmt.Errorf("%w: %w", ErrNotFound, ErrNoFile)
		}
		post = f.Event
		return err
	})
	return post, wrapOp("file post", err)
}

// FileAlias returns the file_id this node gives the file of file post
// post; the error wraps ErrNotFound if it shows no such file.
func (n *Node) FileAlias(ctx context.Context, post protocol.EventID) (uint64, error) {
	var id uint64
	err := n.store.View(func(tx *storage.Tx) error {
		f, err := tx.FileOf(post)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: %w", ErrNotFound, ErrNoFile)
		}
		if err == nil {
			id = f.ID
		}
		return err
	})
	return id, wrapOp("file alias", err)
}
