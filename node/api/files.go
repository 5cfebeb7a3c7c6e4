package api

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// Files, as ChatWork's API has them: POST /v2/rooms/{id}/files (multipart:
// file, optional message) answers {"file_id": N}; GET /v2/rooms/{id}/files
// lists up to 100, newest first, optionally by one uploader
// (account_id); GET /v2/rooms/{id}/files/{file_id} describes one and, with
// create_download_url=1, gives a download_url that works without
// credentials for downloadTTL (ChatWork: 30 seconds). The node serves
// that URL itself (/api/download/{token}): the token names the file, the
// room and the account that asked, until when, with an HMAC of the
// server's key, and the download checks again that the account may read
// the file. The web app downloads through the session cookie instead
// (/api/rooms/{id}/files/{file_id}/content).

// downloadTTL is how long a download URL works, as ChatWork's.
const downloadTTL = 30 * time.Second

type fileJSON struct {
	FileID      uint64     `json:"file_id"`
	Account     accountRef `json:"account"`
	MessageID   string     `json:"message_id"`
	Filename    string     `json:"filename"`
	Filesize    int64      `json:"filesize"`
	UploadTime  int64      `json:"upload_time"`
	DownloadURL string     `json:"download_url,omitempty"`
	// Ours, beside ChatWork's: the media type, and whether the node holds
	// the bytes yet (else a download fetches them from a partner first).
	Type string `json:"type,omitempty"`
	Held bool   `json:"held"`
}

func (c *caller) fileView(r *http.Request, f *node.File) fileJSON {
	return fileJSON{FileID: f.ID, Account: c.account(r.Context(), f.Author), MessageID: uintString(f.Message),
		Filename: f.Name, Filesize: f.Size, UploadTime: seconds(f.Time), Type: f.Type, Held: f.Held}
}

func uintString(n uint64) string { return strconv.FormatUint(n, 10) }

func (s *Server) files(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	by, err := p.id("account_id", false)
	if err != nil {
		return err
	}
	var author protocol.AccountID
	if by != 0 {
		a, ok := c.ids.accountID(r.Context(), by)
		if !ok {
			writeJSON(w, http.StatusOK, []fileJSON{})
			return nil
		}
		author = a
	}
	fs, err := s.node.Files(r.Context(), c.handle(), id, author)
	if err != nil {
		return err
	}
	out := make([]fileJSON, 0, len(fs))
	for _, f := range fs {
		out = append(out, c.fileView(r, f))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// upload reads the multipart form as it streams: the file part goes
// straight to the node's blob store, so memory does not grow with the
// file, and the message may come before or after it.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	if _, err := s.node.Room(r.Context(), c.handle(), id); err != nil {
		return err
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return invalid("the body must be multipart/form-data with a file part")
	}
	var (
		up      *node.Upload
		nf      node.NewFile
		message string
	)
	defer func() {
		if up != nil {
			up.Discard()
		}
	}()
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return err
			}
			return invalid("malformed multipart body")
		}
		switch part.FormName() {
		case "file":
			if up != nil {
				return invalid("only one file per upload")
			}
			nf.Name, nf.Type = part.FileName(), part.Header.Get("Content-Type")
			if nf.Name == "" {
				return invalid("the file part has no filename")
			}
			if up, err = s.node.StageFile(r.Context(), part); err != nil {
				return err
			}
		case "message":
			b, err := io.ReadAll(io.LimitReader(part, maxBody+1))
			if err != nil {
				return err
			}
			if len(b) > maxBody {
				return invalid("message is too long")
			}
			message = string(b)
		}
		part.Close()
	}
	if up == nil {
		return invalid("parameter file is required")
	}
	nf.Body = toGlobal(r.Context(), strings.TrimSpace(message), c.ids)
	nf.Upload, up = up, nil
	f, err := s.node.PostFile(r.Context(), c.handle(), id, nf)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]uint64{"file_id": f.ID})
	return nil
}

func (s *Server) file(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	fid, err := pathID(r, "file_id")
	if err != nil {
		return err
	}
	p, err := readParams(r)
	if err != nil {
		return err
	}
	withURL, err := p.boolean("create_download_url", false)
	if err != nil {
		return err
	}
	f, err := s.node.File(r.Context(), c.handle(), id, fid)
	if errors.Is(err, node.ErrNoFile) {
		return notFound("no such file")
	}
	if err != nil {
		return err
	}
	v := c.fileView(r, f)
	if withURL {
		v.DownloadURL = s.downloadURL(r, c.handle(), id, fid)
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// fileContent serves a file's bytes to a signed-in caller (the web app);
// ?download=1 asks the browser to save it rather than show it.
func (s *Server) fileContent(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	fid, err := pathID(r, "file_id")
	if err != nil {
		return err
	}
	return s.serveFile(w, r, c.handle(), id, fid, r.URL.Query().Get("download") == "1")
}

// thumbnail serves an image file's thumbnail (made by the node, see
// node.Thumbnail) to a signed-in caller.
func (s *Server) thumbnail(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := s.roomOf(r)
	if err != nil {
		return err
	}
	fid, err := pathID(r, "file_id")
	if err != nil {
		return err
	}
	rd, typ, err := s.node.Thumbnail(r.Context(), c.handle(), id, fid)
	if errors.Is(err, node.ErrNoFile) {
		return notFound("no such file")
	}
	if err != nil {
		return err
	}
	defer rd.Close()
	w.Header().Set("Content-Type", typ)
	w.Header().Set("Cache-Control", "private, max-age=86400")
	http.ServeContent(w, r, "", time.Time{}, rd)
	return nil
}

// filePolicy tells the composer the largest file the caller may post and
// the policy for rooms shared with other organizations.
func (s *Server) filePolicy(w http.ResponseWriter, r *http.Request, c *caller) error {
	used, quota, err := s.node.Usage(r.Context(), c.handle())
	if err != nil {
		return err
	}
	p, max := s.node.FilePolicy()
	writeJSON(w, http.StatusOK, map[string]any{"max_size": max, "used": used, "quota": quota, "partner": p})
	return nil
}

// download serves a signed download URL.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	as, room, fid, ok := s.downloads.check(r.PathValue("token"), time.Now())
	if !ok {
		writeErrors(w, http.StatusNotFound, "download link is invalid or has expired")
		return
	}
	if err := s.serveFile(w, r, as, room, fid, true); err != nil {
		s.fail(w, r, err)
	}
}

// inlineTypes are the media types shown in the browser rather than
// downloaded: images that cannot carry scripts.
var inlineTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, as protocol.Handle, room protocol.RoomID, fid uint64, attach bool) error {
	rd, f, err := s.node.OpenFile(r.Context(), as, room, fid)
	if errors.Is(err, node.ErrNoFile) {
		return notFound("no such file")
	}
	if err != nil {
		return err
	}
	defer rd.Close()
	h := w.Header()
	typ := f.Type
	if typ == "" {
		typ = "application/octet-stream"
	}
	disp := "attachment"
	if !attach && inlineTypes[typ] {
		disp = "inline"
	} else if !inlineTypes[typ] {
		typ = "application/octet-stream" // never let a browser render it
	}
	h.Set("Content-Type", typ)
	h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": f.Name}))
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, max-age=300")
	// A large file takes longer than one write deadline: extend it as
	// bytes go out, so only a stalled client is cut off.
	http.ServeContent(&extendingWriter{ResponseWriter: w, rc: http.NewResponseController(w), d: s.cfg.WriteTimeout},
		r, "", time.UnixMilli(f.Time), rd)
	return nil
}

// extendingWriter renews the connection's write deadline before each
// write.
type extendingWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
	d  time.Duration
}

func (e *extendingWriter) Write(p []byte) (int, error) {
	e.rc.SetWriteDeadline(time.Now().Add(e.d))
	return e.ResponseWriter.Write(p)
}

// downloadKey signs download tokens. It is made at start and never
// stored: a restart ends the URLs handed out, which live 30 seconds.
type downloadKey []byte

func newDownloadKey() downloadKey {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

// sign returns a token for account as to download file fid of room until
// exp: the fields, then an HMAC-SHA256 over them, in URL-safe base64.
func (k downloadKey) sign(as protocol.Handle, room protocol.RoomID, fid uint64, exp time.Time) string {
	b := binary.BigEndian.AppendUint64(nil, uint64(exp.Unix()))
	b = binary.BigEndian.AppendUint64(b, fid)
	b = append(b, room[:]...)
	b = append(b, as...)
	m := hmac.New(sha256.New, k)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(append(b, m.Sum(nil)...))
}

func (k downloadKey) check(token string, now time.Time) (as protocol.Handle, room protocol.RoomID, fid uint64, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) < 16+len(room)+sha256.Size+1 {
		return "", room, 0, false
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	m := hmac.New(sha256.New, k)
	m.Write(body)
	if !hmac.Equal(sum, m.Sum(nil)) {
		return "", room, 0, false
	}
	if now.Unix() > int64(binary.BigEndian.Uint64(body)) {
		return "", room, 0, false
	}
	fid = binary.BigEndian.Uint64(body[8:])
	copy(room[:], body[16:])
	return protocol.Handle(body[16+len(room):]), room, fid, true
}

func (s *Server) downloadURL(r *http.Request, as protocol.Handle, room protocol.RoomID, fid uint64) string {
	base := strings.TrimRight(s.cfg.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + "/api/download/" + s.downloads.sign(as, room, fid, time.Now().Add(downloadTTL))
}

// A file is [download:N]…[/download] in ChatWork notation, N its file_id
// on this node. A body a client writes may hold one (a quote of a file's
// message): it is stored, and sent to partners, with the file post's
// global ID instead, [download:<event ID>], and shown to clients with
// their node's file_id again, if the node shows that file (else as
// stored). The node's own file messages name their file by this node's
// file_id: they are made by each node, never sent.
var downloadTag = regexp.MustCompile(`\[download:([0-9]{1,20}|[a-z2-7]{52})\]`)

// files is what ids implementations that know files (*resolver) offer.
type files interface {
	filePost(ctx context.Context, alias uint64) (protocol.EventID, bool)
	fileAlias(ctx context.Context, post protocol.EventID) (uint64, bool)
}

func filesToGlobal(ctx context.Context, body string, m ids) string {
	f, ok := m.(files)
	if !ok || !strings.Contains(body, "[download:") {
		return body
	}
	return downloadTag.ReplaceAllStringFunc(body, func(s string) string {
		n, ok := numeric(downloadTag.FindStringSubmatch(s)[1])
		if !ok {
			return s
		}
		if id, ok := f.filePost(ctx, n); ok {
			return "[download:" + id.String() + "]"
		}
		return s
	})
}

func filesToLocal(ctx context.Context, body string, m ids) string {
	f, ok := m.(files)
	if !ok || !strings.Contains(body, "[download:") {
		return body
	}
	return downloadTag.ReplaceAllStringFunc(body, func(s string) string {
		id, err := protocol.ParseEventID(downloadTag.FindStringSubmatch(s)[1])
		if err != nil {
			return s
		}
		if n, ok := f.fileAlias(ctx, id); ok {
			return "[download:" + strconv.FormatUint(n, 10) + "]"
		}
		return s
	})
}

var _ files = (*resolver)(nil)

func (r *resolver) filePost(ctx context.Context, alias uint64) (protocol.EventID, bool) {
	id, err := r.node.FilePost(ctx, r.as, alias)
	return id, err == nil
}

func (r *resolver) fileAlias(ctx context.Context, post protocol.EventID) (uint64, bool) {
	n, err := r.node.FileAlias(ctx, post)
	return n, err == nil
}
