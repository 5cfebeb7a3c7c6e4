package protocol

import "fmt"

// EncodeRecord encodes a protocol value ([Message], [Task], [Snapshot], ...)
// canonically, for storage. It is the encoding events use, so stored
// records share the wire's determinism and limits.
func EncodeRecord(v any) ([]byte, error) {
	b, err := encMode.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b, nil
}

// DecodeRecord decodes what [EncodeRecord] wrote into v.
func DecodeRecord(b []byte, v any) error {
	if err := recMode.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	return nil
}
