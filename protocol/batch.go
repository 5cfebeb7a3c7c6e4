package protocol

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"

	"filippo.io/edwards25519"
)

// batchVerifier checks many Ed25519 signatures at once under ZIP-215's
// cofactored equation, as ed25519consensus's batch does, with one
// difference that matters to a sync answer: the terms of signatures by
// one key are summed before the multiscalar multiplication, so that n
// signatures of k keys cost n + k + 1 points instead of 2n + 1. A sync
// frame's events are mostly one origin's, and the multiplication is
// nearly all of a batch's cost.
//
// For random 128-bit z_i, it checks
//
//	[8] ( [−Σ z_i·s_i] B + Σ [z_i] R_i + Σ_A [Σ_{i: A_i = A} z_i·k_i] A ) = 0
//
// where k_i = SHA-512(R_i ‖ A_i ‖ M_i) mod ℓ. Every signature valid alone
// under ZIP-215 makes its term zero after the cofactor, so a batch of
// valid signatures always passes; a batch with an invalid one fails
// except with probability about 2⁻¹²⁸. Encodings are read as ZIP-215
// reads them: s must be canonical, A and R may be any encoding of a
// point (edwards25519's SetBytes).
type batchVerifier struct {
	bsum    edwards25519.Scalar // Σ z_i·s_i
	rs      []*edwards25519.Scalar
	rpoints []*edwards25519.Point
	akeys   map[[ed25519.PublicKeySize]byte]int // index into as and apoints
	as      []*edwards25519.Scalar
	apoints []*edwards25519.Point
	bad     bool // an encoding did not decode: the batch fails
}

func newBatchVerifier(n int) *batchVerifier {
	return &batchVerifier{
		rs:      make([]*edwards25519.Scalar, 0, n),
		rpoints: make([]*edwards25519.Point, 0, n),
		akeys:   make(map[[ed25519.PublicKeySize]byte]int),
	}
}

// add adds pub's signature sig of msg to the batch.
func (v *batchVerifier) add(pub ed25519.PublicKey, msg, sig []byte) {
	if v.bad {
		return
	}
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		v.bad = true
		return
	}
	s, err := new(edwards25519.Scalar).SetCanonicalBytes(sig[32:])
	if err != nil {
		v.bad = true
		return
	}
	r, err := new(edwards25519.Point).SetBytes(sig[:32])
	if err != nil {
		v.bad = true
		return
	}
	var key [ed25519.PublicKeySize]byte
	copy(key[:], pub)
	ai, ok := v.akeys[key]
	if !ok {
		a, err := new(edwards25519.Point).SetBytes(pub)
		if err != nil {
			v.bad = true
			return
		}
		ai = len(v.apoints)
		v.akeys[key] = ai
		v.apoints = append(v.apoints, a)
		v.as = append(v.as, edwards25519.NewScalar())
	}

	h := sha512.New()
	h.Write(sig[:32])
	h.Write(pub)
	h.Write(msg)
	var digest [64]byte
	k, _ := new(edwards25519.Scalar).SetUniformBytes(h.Sum(digest[:0]))

	var zb [32]byte
	rand.Read(zb[:16]) // 128 bits; never fails
	z, _ := new(edwards25519.Scalar).SetCanonicalBytes(zb[:])

	v.bsum.MultiplyAdd(z, s, &v.bsum)
	v.rs = append(v.rs, z)
	v.rpoints = append(v.rpoints, r)
	v.as[ai].MultiplyAdd(z, k, v.as[ai])
}

// verify reports whether every signature added is valid, as above.
func (v *batchVerifier) verify() bool {
	if v.bad {
		return false
	}
	if len(v.rs) == 0 {
		return true
	}
	scalars := make([]*edwards25519.Scalar, 0, 1+len(v.rs)+len(v.as))
	points := make([]*edwards25519.Point, 0, cap(scalars))
	scalars = append(scalars, new(edwards25519.Scalar).Negate(&v.bsum))
	points = append(points, edwards25519.NewGeneratorPoint())
	scalars = append(append(scalars, v.rs...), v.as...)
	points = append(append(points, v.rpoints...), v.apoints...)
	check := new(edwards25519.Point).VarTimeMultiScalarMult(scalars, points)
	check.MultByCofactor(check)
	return check.Equal(edwards25519.NewIdentityPoint()) == 1
}
