package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/horenso/horenso/node/search"
	"github.com/horenso/horenso/protocol"
	"github.com/horenso/horenso/storage"
)

// Files in the search index. A file post (files.go) is one document of
// kind file, keyed by the post's event ID: its text is the file's name
// and the message posted with it, its time and author the post's. The
// post has no message document of its own, so a search for the file's
// name (or the words beside it) finds it once, as a file; the file
// notice its body carries ([download:N]name (size)[/download]) is not
// indexed. Deleting the post (or hiding or expiring it) takes the file
// out with it, as for messages: the indexer sees the post's message
// change and asks again what the post is now.

// fileNotice starts the notice fileBody appends to a file post's body.
const fileNotice = "[info][title][dtext:file_uploaded][/title][download:"

// postDocs adds to b the documents of post m of room, as it is now: a
// file document for a file post the node shows, else a message document
// (or the deletion of both, for a post that is gone). The timeline does
// not keep a post's file reference: a body with the file notice is looked
// up in the node's files.
func postDocs(tx *storage.Tx, room protocol.RoomID, m *storage.Message, b *search.Batch) error {
	msgID := search.DocID(search.KindMessage, m.ID.String())
	fileID := search.DocID(search.KindFile, m.ID.String())
	if !m.Deleted && strings.Contains(m.Body, fileNotice) {
		f, err := tx.FileOf(m.ID)
		switch {
		case err == nil:
			comment := m.Body[:strings.LastIndex(m.Body, fileNotice)]
			b.Delete = append(b.Delete, msgID)
			b.Put = append(b.Put, search.Doc{ID: fileID, Kind: search.KindFile, Room: room.String(), Author: string(f.Author),
				Time: m.Time, Text: strings.TrimSpace(nameWords(f.Name) + "\n" + comment), HasFile: true})
			return nil
		case !errors.Is(err, storage.ErrNotFound):
			return err
		}
	}
	if d := messageDocOf(room, m); d != nil {
		b.Put = append(b.Put, *d)
	} else {
		b.Delete = append(b.Delete, msgID)
	}
	if m.Deleted || m.EditedAt != 0 { // a winning edit takes a file away
		b.Delete = append(b.Delete, fileID)
	}
	return nil
}

// postDocsOf is postDocs for the post change c is about, which may be
// gone.
func postDocsOf(tx *storage.Tx, c *storage.Change, b *search.Batch) error {
	room, m, err := tx.ChangedMessage(c)
	if errors.Is(err, storage.ErrNotFound) {
		b.Delete = append(b.Delete, search.DocID(search.KindMessage, c.Event.String()), search.DocID(search.KindFile, c.Event.String()))
		return nil
	}
	if err != nil {
		return err
	}
	return postDocs(tx, room, m, b)
}

// fileOfPost returns the file of file post post and the post's message,
// as File and Message would give them to as: an error if as may not read
// them now (not a member of the room, or the post hidden from it by the
// room's history visibility), or the post is no longer a file.
func (n *Node) fileOfPost(ctx context.Context, as protocol.Handle, post protocol.EventID) (*File, *Message, error) {
	id, err := n.FileAlias(ctx, post)
	if err != nil {
		return nil, nil, err
	}
	m, err := n.Message(ctx, as, post)
	if err != nil {
		return nil, nil, err
	}
	if m.Deleted {
		return nil, nil, fmt.Errorf("file of %s: %w: %w", post, ErrNotFound, ErrNoFile)
	}
	f, err := n.File(ctx, as, m.Room, id)
	if err != nil {
		return nil, nil, err
	}
	return f, m, nil
}

// nameWords is a file's name as words: the tokenizer keeps
// "Reports.xlsx" and "plans_v2" as one word each (as it should in
// prose: "e.g.", "node_id"), but in a file name the dots, dashes and
// underscores separate words that people search for one by one.
func nameWords(name string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) {
			return r
		}
		return ' '
	}, name)
}
