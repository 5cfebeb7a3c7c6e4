package nodetest

import (
	"bytes"
	"fmt"
	"io"

	"github.com/horenso/horenso/node"
	"github.com/horenso/horenso/protocol"
)

// PostFile posts a file named name with content in room and returns it.
func (ac *Actor) PostFile(room protocol.RoomID, name string, content []byte) *node.File {
	ac.t.Helper()
	f, err := ac.nd.PostFile(ac.t.Context(), ac.Handle, room, node.NewFile{Name: name, Data: bytes.NewReader(content)})
	ac.check(fmt.Sprintf("post file %q", name), err)
	return f
}

// AwaitFile waits until the account sees a file named name in room (and,
// if held, until its node holds the bytes), and returns it.
func (ac *Actor) AwaitFile(room protocol.RoomID, name string, held bool) *node.File {
	ac.t.Helper()
	var got *node.File
	ac.await(func() (bool, string) {
		fs, err := ac.nd.Files(ac.t.Context(), ac.Handle, room, "")
		if err != nil {
			return false, fmt.Sprintf("list files: %v", err)
		}
		for _, f := range fs {
			if f.Name == name && (f.Held || !held) {
				got = f
				return true, ""
			}
		}
		return false, fmt.Sprintf("has no file %q (held: %t) among %d", name, held, len(fs))
	})
	return got
}

// Download reads file id of room as the account, fetching it from a
// member node first if its node lacks it.
func (ac *Actor) Download(room protocol.RoomID, id uint64) []byte {
	ac.t.Helper()
	r, _, err := ac.nd.OpenFile(ac.t.Context(), ac.Handle, room, id)
	ac.check(fmt.Sprintf("open file %d", id), err)
	defer r.Close()
	b, err := io.ReadAll(r)
	ac.check(fmt.Sprintf("read file %d", id), err)
	return b
}
