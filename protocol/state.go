package protocol

import "slices"

// Message is a posted message with its edits and deletion applied. Edits
// resolve last-writer-wins by [Order]; a deletion wins over every edit and
// clears the body. The result depends only on the set of events applied.
type Message struct {
	ID       EventID   `cbor:"1,keyasint"`
	Author   AccountID `cbor:"2,keyasint"`
	Depth    uint64    `cbor:"3,keyasint"`
	Time     int64     `cbor:"4,keyasint"` // post time, unix ms at the origin
	Body     string    `cbor:"5,keyasint"`
	Edit     Order     `cbor:"6,keyasint"` // the winning edit; zero if none
	EditedAt int64     `cbor:"7,keyasint,omitempty"`
	Deleted  bool      `cbor:"8,keyasint,omitempty"`
	// File is the file of a file post, until a delete or a winning edit
	// takes it away with the post's text (so a node given the redacted
	// post, which holds neither, shows the same).
	File *FileRef `cbor:"9,keyasint,omitempty"`
}

// NewMessage returns the message a message.post creates. A redacted post
// makes a message with no body: its text was dropped because an edit
// replaced it (which then gives the body), a delete (which then marks it
// deleted), or the room's retention.
func NewMessage(post *Signed) *Message {
	m := &Message{ID: post.ID, Author: post.AuthorID(), Depth: post.Depth, Time: post.Time}
	if !post.Redacted() {
		p := post.Content.(*MessagePost)
		m.Body, m.File = p.Body, p.File
	}
	return m
}

// Order returns the message's place in the room's display order.
func (m *Message) Order() Order { return Order{Depth: m.Depth, ID: m.ID} }

// Apply applies an accepted message.edit or message.delete that refers to m
// and reports whether m changed.
func (m *Message) Apply(e *Signed) bool {
	if m.Deleted || e.Redacted() {
		return false // a redacted edit has no text, and no target
	}
	switch p := e.Content.(type) {
	case *MessageDelete:
		// Erase everything edits left too, so the result does not depend
		// on whether an edit arrived before the delete.
		m.Deleted, m.Body, m.Edit, m.EditedAt, m.File = true, "", Order{}, 0, nil
		return true
	case *MessageEdit:
		if e.Order().Compare(m.Edit) <= 0 {
			return false
		}
		m.Edit, m.Body, m.EditedAt, m.File = e.Order(), p.Body, e.Time, nil
		return true
	}
	return false
}

// Task is a task with its updates applied. Each field resolves
// last-writer-wins by [Order] on its own, so concurrent changes to
// different fields both take effect.
type Task struct {
	ID        EventID     `cbor:"1,keyasint"`
	Creator   AccountID   `cbor:"2,keyasint"`
	Time      int64       `cbor:"3,keyasint"` // creation time, unix ms at the origin
	Body      string      `cbor:"4,keyasint"`
	Assignees []AccountID `cbor:"5,keyasint"`
	Due       int64       `cbor:"6,keyasint,omitempty"`
	Limit     LimitType   `cbor:"7,keyasint"`
	Status    TaskStatus  `cbor:"8,keyasint"`
	DoneAt    int64       `cbor:"9,keyasint,omitempty"` // when the winning status change was made
	BodyAt    Order       `cbor:"10,keyasint"`
	AssignAt  Order       `cbor:"11,keyasint"`
	DueAt     Order       `cbor:"12,keyasint"`
	StatusAt  Order       `cbor:"13,keyasint"`
	Depth     uint64      `cbor:"14,keyasint"`
}

// NewTask returns the task a task.create creates.
func NewTask(create *Signed) *Task {
	p := create.Content.(*TaskCreate)
	o := create.Order()
	return &Task{ID: create.ID, Creator: create.AuthorID(), Time: create.Time, Depth: create.Depth,
		Body: p.Body, Assignees: slices.Clone(p.Assignees), Due: p.Due, Limit: p.Limit, Status: TaskOpen,
		BodyAt: o, AssignAt: o, DueAt: o, StatusAt: o}
}

// Apply applies an accepted task.update that refers to t and reports
// whether t changed.
func (t *Task) Apply(e *Signed) bool {
	p, ok := e.Content.(*TaskUpdate)
	if !ok {
		return false
	}
	o, changed := e.Order(), false
	newer := func(at *Order) bool {
		if o.Compare(*at) <= 0 {
			return false
		}
		*at, changed = o, true
		return true
	}
	if p.Body != nil && newer(&t.BodyAt) {
		t.Body = *p.Body
	}
	if p.Assignees != nil && newer(&t.AssignAt) {
		t.Assignees = slices.Clone(*p.Assignees)
	}
	if p.Limit != nil && newer(&t.DueAt) {
		t.Limit, t.Due = *p.Limit, *p.Due
	}
	if p.Status != nil && newer(&t.StatusAt) {
		t.Status, t.DoneAt = *p.Status, 0
		if t.Status == TaskDone {
			t.DoneAt = e.Time
		}
	}
	return changed
}
