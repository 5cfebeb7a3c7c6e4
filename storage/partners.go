package storage

import (
	"errors"
	"fmt"

	"github.com/horenso/horenso/protocol"
)

// Partner is a partner node: one this node lets connect and dials.
type Partner struct {
	ID    protocol.NodeID `cbor:"1,keyasint"`
	Addrs []string        `cbor:"2,keyasint"` // multiaddrs, each ending in /p2p/ID
	Added int64           `cbor:"3,keyasint"` // unix ms
}

// PutPartner stores or replaces a partner.
func (tx *Tx) PutPartner(p *Partner) error {
	return wrap("put partner", tx.setRecord(key(pPartner, []byte(p.ID)), p))
}

// DeletePartner removes a partner; the error wraps ErrNotFound if there is
// none with id.
func (tx *Tx) DeletePartner(id protocol.NodeID) error {
	if ok, err := tx.has(key(pPartner, []byte(id))); err != nil || !ok {
		return errors.Join(err, fmt.Errorf("delete partner %s: %w", id, ErrNotFound))
	}
	return wrap("delete partner", tx.delete(key(pPartner, []byte(id))))
}

// Partner returns one partner; the error wraps ErrNotFound if there is none.
func (tx *Tx) Partner(id protocol.NodeID) (*Partner, error) {
	var p Partner
	if err := tx.getRecord(key(pPartner, []byte(id)), &p); err != nil {
		return nil, fmt.Errorf("get partner %s: %w", id, err)
	}
	return &p, nil
}

// Partners returns every partner, by ID.
func (tx *Tx) Partners() ([]*Partner, error) {
	var out []*Partner
	err := tx.scan([]byte{pPartner}, nil, false, func(_ []byte, val func() ([]byte, error)) (bool, error) {
		b, err := val()
		if err != nil {
			return false, err
		}
		var p Partner
		if err := protocol.DecodeRecord(b, &p); err != nil {
			return false, err
		}
		out = append(out, &p)
		return true, nil
	})
	return out, wrap("list partners", err)
}
