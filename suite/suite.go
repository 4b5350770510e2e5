package suite

import (
	"strings"
)

// Suite ids, as carried (u8) in HELLO.suites and RESPONSE.suite.
const (
	// AES256GCM: payload = AES-256-GCM ciphertext ‖ 16-byte tag, no
	// metadata.
	AES256GCM uint8 = 0x01
	// ChaCha20Poly1305: payload = ChaCha20-Poly1305 ciphertext ‖ 16-byte
	// tag, no metadata.
	ChaCha20Poly1305 uint8 = 0x02
	// STCAES256GCM: payload = STC DSF chunk, metadata = 16-byte STC chunk
	// header ‖ AES-256-GCM tag over header ‖ chunk header ‖ DSF ciphertext.
	STCAES256GCM uint8 = 0x03
	// STCChaCha20Poly1305: as STCAES256GCM with a ChaCha20-Poly1305 tag.
	STCChaCha20Poly1305 uint8 = 0x04
)

// Wire constants of frame protection.
const (
	// FlagKeyPhase is the header flag carrying the key phase parity.
	FlagKeyPhase uint8 = 0x40
	// FlagReserved must be clear on protected frames.
	FlagReserved uint8 = 0x80
	// TagSize is the AEAD tag length of every suite.
	TagSize = 16
	// ChunkHeaderSize is the STC chunk header length in STC metadata.
	ChunkHeaderSize = 16
	// MaxPayload is the largest plaintext one frame may carry (the STC chunk
	// header's u16 data length; applied to every suite).
	MaxPayload = 65535
	// OpenSlack is how many bytes beyond the payload length Open needs in
	// its destination buffer (used by the STC suites; the AEAD suites
	// decrypt in place).
	OpenSlack = TagSize
)

// Names of the suites, as ParseName accepts them.
const (
	nameAES       = "aes-256-gcm"
	nameChaCha    = "chacha20-poly1305"
	nameSTCAES    = "stc-aes-256-gcm"
	nameSTCChaCha = "stc-chacha20-poly1305"
)

// Name returns the suite's name ("aes-256-gcm", "chacha20-poly1305",
// "stc-aes-256-gcm", "stc-chacha20-poly1305") or "unknown".
func Name(id uint8) string {
	switch id {
	case AES256GCM:
		return nameAES
	case ChaCha20Poly1305:
		return nameChaCha
	case STCAES256GCM:
		return nameSTCAES
	case STCChaCha20Poly1305:
		return nameSTCChaCha
	}
	return "unknown"
}

// Known reports whether id is a defined suite.
func Known(id uint8) bool { return id >= AES256GCM && id <= STCChaCha20Poly1305 }

// IsSTC reports whether id is one of the STC suites (weak confidentiality:
// the STC DSF transform; integrity from the AEAD tag).
func IsSTC(id uint8) bool { return id == STCAES256GCM || id == STCChaCha20Poly1305 }

// MetadataLen returns the metadata length of the suite's frames: 0 for the
// AEAD suites (their tag follows the ciphertext in the payload), 32 for
// the STC suites (chunk header and tag), -1 for an unknown id.
func MetadataLen(id uint8) int {
	switch {
	case id == AES256GCM || id == ChaCha20Poly1305:
		return 0
	case IsSTC(id):
		return ChunkHeaderSize + TagSize
	}
	return -1
}

// usesAES reports whether the suite's AEAD is AES-256-GCM.
func usesAES(id uint8) bool { return id == AES256GCM || id == STCAES256GCM }

// HasAESHardware reports whether this CPU runs AES-GCM in hardware (and the
// build is not purego), which decides the preference order.
func HasAESHardware() bool { return hasAESHardware }

// Preferred returns the AEAD suites in this machine's preference order:
// AES-256-GCM first where the CPU has AES and carry-less multiply
// instructions, ChaCha20-Poly1305 first otherwise. It returns a new slice.
func Preferred() []uint8 {
	if hasAESHardware {
		return []uint8{AES256GCM, ChaCha20Poly1305}
	}
	return []uint8{ChaCha20Poly1305, AES256GCM}
}

// preferredSTC is Preferred for the STC suites.
func preferredSTC() []uint8 {
	if hasAESHardware {
		return []uint8{STCAES256GCM, STCChaCha20Poly1305}
	}
	return []uint8{STCChaCha20Poly1305, STCAES256GCM}
}

// ParseName parses a comma-separated list of suite names into suite ids in
// the order given, without duplicates. "aead" stands for [Preferred], "stc"
// for both STC suites in the same CPU-dependent order; explicit names are
// those of [Name] (case-insensitive). Errors: [ErrUnknownSuite] for an
// unknown or empty name.
func ParseName(s string) ([]uint8, error) {
	var out []uint8
	add := func(ids ...uint8) {
		for _, id := range ids {
			dup := false
			for _, o := range out {
				dup = dup || o == id
			}
			if !dup {
				out = append(out, id)
			}
		}
	}
	for part := range strings.SplitSeq(s, ",") {
		switch strings.ToLower(strings.TrimSpace(part)) {
		case "aead":
			add(Preferred()...)
		case "stc":
			add(preferredSTC()...)
		case nameAES:
			add(AES256GCM)
		case nameChaCha:
			add(ChaCha20Poly1305)
		case nameSTCAES:
			add(STCAES256GCM)
		case nameSTCChaCha:
			add(STCChaCha20Poly1305)
		default:
			return nil, ErrUnknownSuite
		}
	}
	return out, nil
}
